"""The fuzz tier: schemathesis and hand-made ugly payloads against a local runtime."""
