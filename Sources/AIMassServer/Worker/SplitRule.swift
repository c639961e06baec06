import ModelRegistry

// The registry core and the API messages both define `AliasSplit`, and the module `ModelRegistry` has a class of the
// same name, so `ModelRegistry.AliasSplit` does not resolve. This file imports only the core and names its type for
// the worker, which routes A/B splits with the registry's own rule (not a copy of it).

/// The registry's A/B split rule (``ModelRegistry/AliasSplit``): which version serves a user.
typealias SplitRule = AliasSplit
