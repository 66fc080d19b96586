"""Who is calling and what they may do: API keys, viewers and the permission table."""
