"""Data: sources (Kaggle folders, fer2013.csv, synthetic), caching and preparation."""

from emotion_core.config import SYNTHETIC
from emotion_core.data.dataset import Dataset
from emotion_core.data.sources import has_split, load_data

__all__ = ["Dataset", "SYNTHETIC", "has_split", "load_data"]
