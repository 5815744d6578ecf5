"""Our own vocabulary terms (defined in vocab/vocab.ttl) and the external IRIs we use as values.

The namespace is fixed forever, whatever the site's base URL: data from any deployment means the
same thing. Mint a term here only when schema.org, PROV-O, IPTC and Dublin Core have none.
"""

from __future__ import annotations

__all__ = [
    "AI_ACT_BASIS_TERMS",
    "NS",
    "ROLE_TERMS",
    "SCHEMA",
    "STATUS_SET",
    "STATUS_TERMS",
    "TRAINED_ALGORITHMIC_MEDIA",
]

NS = "https://agentry.news/vocab#"
SCHEMA = "http://schema.org/"  # what schema.org's own context expands terms to
# An enumeration member, written as schema.org publishes it (https), always as an IRI object.
TRAINED_ALGORITHMIC_MEDIA = "https://schema.org/TrainedAlgorithmicMediaDigitalSource"

STATUS_SET = NS + "ArticleStatus"
STATUS_TERMS = {
    "unverified": NS + "Unverified",
    "verified": NS + "Verified",
    "updated": NS + "Updated",
    "corrected": NS + "Corrected",
    "retracted": NS + "Retracted",
}

AI_ACT_BASIS_PROPERTY = NS + "aiActArticle50Basis"
AI_ACT_BASIS_TERMS = {
    "disclosed": NS + "Art50Disclosed",
    "editorial-responsibility": NS + "Art50EditorialResponsibility",
    "not-in-scope": NS + "Art50NotInScope",
}

# PROV roles (prov:hadRole of each activity's qualified association)
ROLE_TERMS = {
    "drafting": NS + "DraftingAgent",
    "fact-check": NS + "FactChecker",
    "review": NS + "VerifyingEditor",
}
