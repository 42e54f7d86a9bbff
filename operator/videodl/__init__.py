"""videodl: video downloads as Kubernetes custom resources."""
