// The MeshCore module: see its issue.
