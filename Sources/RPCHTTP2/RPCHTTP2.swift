// The RPCHTTP2 module.
