#pragma once
// Debian's libsqlite3 is built with the session extension; its declarations are only visible with these defines.
// The registry records each write transaction's row changes with a session (see Database+Session.swift).
#define SQLITE_ENABLE_SESSION 1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <sqlite3.h>

// SQLITE_TRANSIENT is a cast of -1 to a function pointer, which the Clang importer drops.
static inline sqlite3_destructor_type CSQLite_TRANSIENT(void) { return SQLITE_TRANSIENT; }
