"""pytest plugin of purlsim (entry point `pytest11`): the `delivery_baseline` fixture lives here."""
