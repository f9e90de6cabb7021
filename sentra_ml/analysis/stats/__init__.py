"""Statistical tests: sequential (anytime-valid) and fixed-horizon."""
