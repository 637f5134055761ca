"""What a model does with a sentence and what each head contributes: numbers only, no figures and no UI text."""
