print("aimass")
