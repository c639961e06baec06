// The RPCProtobufC module.
