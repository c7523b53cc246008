"""One construct per concern; see infra/stack.py for how they are composed."""
