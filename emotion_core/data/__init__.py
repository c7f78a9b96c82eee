"""Data: sources (Kaggle folders, fer2013.csv, synthetic), caching and preparation."""

from emotion_core.data.dataset import DataError, Dataset
from emotion_core.data.sources import SYNTHETIC, has_split, load_data

__all__ = ["DataError", "Dataset", "SYNTHETIC", "has_split", "load_data"]
