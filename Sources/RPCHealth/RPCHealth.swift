// The RPCHealth module.
