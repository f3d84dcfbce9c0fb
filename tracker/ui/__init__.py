"""What a person looks at: the terminal dashboard (and, beside it, any other view of the live facts)."""
