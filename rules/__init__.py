"""Orientation rules: the situation taxonomy (data/taxonomy.yaml) and the rules
(`rules/*.rules.yml`), with the engine that validates, evaluates and explains them.

Imports the directory, never the bot or the web.
"""
from .engine import evaluate
from .errors import RuleProblem, RulesError
from .loader import RULES_DIR, RuleSet, load_rules
from .model import Orientation, Recommendation, Request, Rule, Step
from .orienter import OrientationResult, Orienter, RequestError, build_request, check
from .plan import contact_line, plan_text

__all__ = ["evaluate", "RuleProblem", "RulesError", "RULES_DIR", "RuleSet", "load_rules", "Orientation",
           "Recommendation", "Request", "Rule", "Step", "OrientationResult", "Orienter", "RequestError",
           "build_request", "check", "plan_text", "contact_line"]
