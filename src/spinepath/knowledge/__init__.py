"""The clinical knowledge base: rules, questions, care and sources as data (``data/*.yaml``).

``models`` describes each entry kind, ``load`` reads and validates the files, ``check`` holds the
consistency checks (`spinepath kb check`) a knowledge base must pass before the engine uses it.
"""

from spinepath.knowledge.check import answers_read, available_facts, check
from spinepath.knowledge.load import default, knowledge_dir, load
from spinepath.knowledge.models import (
    ENGINE_FACTS,
    AnswerFormat,
    KnowledgeBase,
    KnowledgeError,
    answer_format,
)

__all__ = [
    "ENGINE_FACTS",
    "AnswerFormat",
    "KnowledgeBase",
    "KnowledgeError",
    "answer_format",
    "answers_read",
    "available_facts",
    "check",
    "default",
    "knowledge_dir",
    "load",
]
