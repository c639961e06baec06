import ModelRegistry

// The registry core and the API messages both define `TokenScope` and `Role`, and the module `ModelRegistry` has a
// class of the same name, so `ModelRegistry.TokenScope` does not resolve: this file imports only the core.

/// The core's token scope, for `aimass token create --offline`.
typealias RegistryTokenScope = TokenScope
/// The core's per-model role.
typealias RegistryRole = Role
