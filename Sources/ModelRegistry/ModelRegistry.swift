// The ModelRegistry module.
