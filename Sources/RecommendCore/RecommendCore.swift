// The RecommendCore module.
