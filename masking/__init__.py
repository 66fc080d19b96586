"""Server-side masking: a project's rules (attribute keys and text patterns such as
emails, API keys and card numbers), applied by the storage worker to every span before
it is stored, so what they match never reaches PostgreSQL."""
