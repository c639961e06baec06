// The AIMassInterop module.
