print("aimass-interop")
