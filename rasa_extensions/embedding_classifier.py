"""An intent classifier for Rasa 3.6 on sentence embeddings: multinomial logistic regression.

It reads the sentence vector a dense featurizer added (our E5 featurizer), adds the message's
character n-grams (TF-IDF, so typos and rare words still count), learns one linear layer with
scikit-learn, and answers like Rasa's own classifiers: `intent` and an `intent_ranking` of the
best ten, so FallbackClassifier and the "did you mean" step work as before. Everything learnt
is kept as plain arrays and a vocabulary in the model, never pickled.
"""

# Rasa checks that the graph's nodes fit together by comparing these annotations with its own,
# so they use `typing`'s names as Rasa does.
# ruff: noqa: UP006, UP035, UP045

import json
import warnings
from typing import Any, Dict, List, Optional

import numpy as np
import scipy.sparse as sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

WEIGHTS = "weights.npz"
VOCABULARY = "vocabulary.json"
WEIGHT_KEYS = ("coef", "intercept", "classes", "idf")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class EmbeddingIntentClassifier(GraphComponent, IntentClassifier):
    """Classify intents with a softmax layer on the message's dense sentence vector."""

    @classmethod
    def required_components(cls) -> List[type]:
        """A dense featurizer must run first."""
        return [DenseFeaturizer]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Regularisation, solver budget, and how much the character n-grams weigh.

        The solver stops after `max_iter` steps, converged or not: on the held-out examples of
        every language (`make nlu-report`) the scores stop moving after about 150 steps, and
        each further step costs training time, the one retrain in `make test` included.
        """
        return {
            "C": 100.0,
            "max_iter": 200,
            "lexical_weight": 0.5,
            "min_ngram": 2,
            "max_ngram": 4,
            "min_df": 2,
        }

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        weights: Optional[Dict[str, np.ndarray]] = None,
        vocabulary: Optional[Dict[str, int]] = None,
    ) -> None:
        """Keep the config, and what was learnt if there is anything."""
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self.weights = weights
        self.ngrams = self._vectorizer(vocabulary, weights)

    def _vectorizer(
        self, vocabulary: Optional[Dict[str, int]], weights: Optional[Dict[str, np.ndarray]]
    ) -> Any:
        """The character n-gram TF-IDF of the config, fitted already if a vocabulary is given."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        ngrams = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(self.config["min_ngram"], self.config["max_ngram"]),
            min_df=self.config["min_df"],
            sublinear_tf=True,
            dtype=np.float32,
        )
        if vocabulary is not None and weights is not None:
            ngrams.vocabulary_ = vocabulary
            ngrams.idf_ = weights["idf"]
        return ngrams

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EmbeddingIntentClassifier":
        """Build an untrained classifier."""
        return cls(config, model_storage, resource)

    @staticmethod
    def required_packages() -> List[str]:
        """scikit-learn trains the layer (Rasa ships it)."""
        return ["sklearn"]

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the layer on every intent example that has a sentence vector."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        examples = [m for m in training_data.intent_examples if _vector(m) is not None]
        labels = np.array([m.get(INTENT) for m in examples])
        if len(set(labels)) < 2:
            return self._resource
        self.ngrams.fit([str(m.get(TEXT)) for m in examples])
        model = LogisticRegression(C=self.config["C"], max_iter=self.config["max_iter"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # the step budget is deliberate
            model.fit(self._features(examples), labels)
        self.weights = {
            "coef": model.coef_.astype(np.float32),
            "intercept": model.intercept_.astype(np.float32),
            "classes": model.classes_.astype(str),
            "idf": self.ngrams.idf_.astype(np.float32),
        }
        vocabulary = {term: int(index) for term, index in self.ngrams.vocabulary_.items()}
        with self._model_storage.write_to(self._resource) as folder:
            np.savez(folder / WEIGHTS, **self.weights)
            (folder / VOCABULARY).write_text(json.dumps(vocabulary), encoding="utf-8")
        return self._resource

    def _features(self, messages: List[Message]) -> Any:
        """Each message's sentence vector beside its weighted character n-grams."""
        vectors = sparse.csr_matrix(np.stack([_vector(m) for m in messages]))
        ngrams = self.ngrams.transform([str(m.get(TEXT)) for m in messages])
        return sparse.hstack([vectors, ngrams * self.config["lexical_weight"]]).tocsr()

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "EmbeddingIntentClassifier":
        """Read the learnt weights back from the model."""
        try:
            with (
                model_storage.read_from(resource) as folder,
                np.load(folder / WEIGHTS, allow_pickle=False) as stored,
            ):
                weights = {key: stored[key] for key in WEIGHT_KEYS}
                vocabulary = json.loads((folder / VOCABULARY).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            weights, vocabulary = None, None
        return cls(config, model_storage, resource, weights, vocabulary)

    def process(self, messages: List[Message]) -> List[Message]:
        """Set the intent and the ranking of the best intents on each message."""
        for message in messages:
            if self.weights is None or _vector(message) is None:
                message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set("intent_ranking", [], add_to_output=True)
                continue
            ranking = self.rank(message)
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages

    def rank(self, message: Message) -> List[Dict[str, Any]]:
        """The most likely intents for a message, best first."""
        assert self.weights is not None
        features = self._features([message])
        scores = np.asarray(features @ self.weights["coef"].T).ravel() + self.weights["intercept"]
        probabilities = np.exp(scores - scores.max())
        probabilities /= probabilities.sum()
        best = np.argsort(-probabilities)[:LABEL_RANKING_LENGTH]
        return [
            {"name": str(self.weights["classes"][i]), "confidence": float(probabilities[i])}
            for i in best
        ]


def _vector(message: Message) -> Optional[np.ndarray]:
    """The message's dense sentence vector, if a featurizer added one."""
    _, sentence = message.get_dense_features(TEXT)
    return None if sentence is None else sentence.features[0]
