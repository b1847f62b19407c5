"""Risk rules as data: the rule language, rule sets, features and the decision engine."""
