-- Rasa keeps its conversation trackers in a database of its own.
CREATE DATABASE rasa OWNER second_opinion;
