// The RPCCore module.
