import RPCCore

enum RPCErrorFixture {
    static let unavailable = RPCError(code: .unavailable, message: "etcdserver: no leader")
    static let deadline = RPCError(code: .deadlineExceeded, message: "deadline")
    static let invalid = RPCError(code: .invalidArgument, message: "etcdserver: key is not provided")
}
