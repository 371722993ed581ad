"""Labels the harness's own integration tests put on what they create in a cluster."""

TEST_NAMESPACE_LABEL = "mcproof.io/test"
