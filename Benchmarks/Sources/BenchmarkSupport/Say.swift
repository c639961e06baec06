import Foundation

/// Prints a line at once, unbuffered (stdout is a pipe when a run is recorded, or when a parent reads it).
public func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
