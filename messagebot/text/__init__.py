"""A message's words: the prompt that asks for them (prompts, examples, occasions, korean,
language) and the text on its way out (cleanup, length, pipeline)."""
