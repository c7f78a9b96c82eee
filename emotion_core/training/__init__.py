"""Training: the loop, its callbacks, augmentation, precision, and launching a run as a process."""
