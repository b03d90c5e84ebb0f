"""Page routes, one module per role (plus sign-in)."""
