"""Stable error codes of community content. Codes never change once shipped."""

from shequn.core.errors import InvalidInput, NotFound


class ArticleNotFound(NotFound):
    """Also for members-only articles of a community the caller does not belong to."""

    code = "article_not_found"


class ContentNotFound(NotFound):
    """The content of a community the caller does not belong to looks absent."""

    code = "content_not_found"


class PushJobNotFound(NotFound):
    code = "push_job_not_found"


class KeywordRuleNotFound(NotFound):
    code = "keyword_rule_not_found"


class InvalidArticle(InvalidInput):
    code = "invalid_article"


class InvalidKeywordRule(InvalidInput):
    code = "invalid_keyword_rule"
