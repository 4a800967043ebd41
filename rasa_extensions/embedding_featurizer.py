"""A dense featurizer for Rasa 3.6: multilingual sentence embeddings (E5), offline.

Every message gets one sentence feature, the E5 vector of its text (see `embeddings`). Training
examples are embedded in batches and cached by text in `cache` (relative to Rasa's working
directory), so retraining after an editor adds a question embeds only the new questions.
Messages at run time are embedded one at a time and never cached.
"""

# Rasa checks that the graph's nodes fit together by comparing these annotations with its own,
# so they use `typing`'s names as Rasa does.
# ruff: noqa: UP006, UP035

from pathlib import Path
from typing import Any, Dict, List

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from embeddings import SentenceEncoder


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Add the E5 sentence vector of each message's text as a dense sentence feature."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """The cache of training texts' vectors (a SQLite file), and the featurizer's alias."""
        return {**DenseFeaturizer.get_default_config(), "cache": "var/embeddings.sqlite"}

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentenceEmbeddingFeaturizer":
        """Build the featurizer for a graph node."""
        return cls(config, execution_context.node_name)

    def __init__(self, config: Dict[str, Any], name: str) -> None:
        """Keep the config; the model itself loads on first use."""
        super().__init__(name, config)
        cache = config.get("cache")
        self.encoder = SentenceEncoder(Path(cache) if cache else None)

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        """Nothing to validate: every option has a usable default."""

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Embed every training example that has text, in batches, through the cache."""
        examples = [m for m in training_data.training_examples if m.get(TEXT)]
        self._add(examples, remember=True)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Embed the messages of a conversation turn (never cached)."""
        self._add([m for m in messages if m.get(TEXT)], remember=False)
        return messages

    def _add(self, messages: List[Message], remember: bool) -> None:
        """Attach the sentence vectors to their messages."""
        vectors = self.encoder.encode([str(m.get(TEXT)) for m in messages], remember=remember)
        for message, vector in zip(messages, vectors, strict=True):
            feature = Features(
                np.expand_dims(vector, 0), FEATURE_TYPE_SENTENCE, TEXT, self._identifier
            )
            message.add_features(feature)
