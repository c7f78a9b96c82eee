"""Label audit: which labels are likely wrong (confident learning via cleanlab), checked
against the crowd's votes, from out-of-sample probabilities (one model that never saw the
faces, or K out-of-fold models), and the face map of how a model sees the faces.

Modules: `issues` (finding and ranking issues, the crowd check, tables), `model` (auditing
with one model, refusing one that saw the faces, its outputs cached), `folds` (out-of-fold
probabilities from K ordinary runs), `facemap` (the 2-D map).
"""

from emotion_core.audit.facemap import METHODS, face_map, project
from emotion_core.audit.folds import audit_with_folds, fold_of, train_folds
from emotion_core.audit.issues import (Audit, audit, crowd_check, face_lines, filter_issues, find_issues, headline,
                                       issues_table)
from emotion_core.audit.model import audit_with_model, check_out_of_sample, model_outputs, outputs_for

__all__ = ["METHODS", "Audit", "audit", "audit_with_folds", "audit_with_model", "check_out_of_sample",
           "crowd_check", "face_lines", "face_map", "filter_issues", "find_issues", "fold_of", "headline",
           "issues_table", "model_outputs", "outputs_for", "project", "train_folds"]
