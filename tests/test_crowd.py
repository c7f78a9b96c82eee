"""Crowd votes (FER+) on tiny made-up votes: majority, ties, not-a-face, sides, joins, reports."""

import numpy as np
import pytest

from emotion_core.data.crowd import NO_MAJORITY, CrowdVotes, load_votes, sides, votes_for
from emotion_core.evaluation import crowd_report
from emotion_core.labels import EMOTIONS
from emotion_core.mistakes import cell_headline, cell_table, filter_by_side, probability_lines

HEADER = "file,split,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"
N, HAPPY, SAD, ANGRY, FEAR = (EMOTIONS.index(e) for e in ("neutral", "happy", "sad", "angry", "fear"))


@pytest.fixture
def votes_file(tmp_path, monkeypatch):
    rows = [
        "a.jpg,PublicTest,8,0,0,2,0,0,0,0,0,0",  # neutral, clearly
        "b.jpg,PublicTest,0,0,0,5,0,0,5,0,0,0",  # a sadness/fear tie: FER+'s column order puts sadness first
        "c.jpg,PublicTest,1,0,0,0,0,0,0,0,0,9",  # not a face
        "d.jpg,PublicTest,0,3,0,0,0,0,0,0,4,3",  # "unknown" is the top vote: flagged, majority still happy
        "e.jpg,PublicTest,0,0,0,0,6,0,0,0,0,4",  # angry
    ]
    path = tmp_path / "votes.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    monkeypatch.setenv("EMOTION_VOTES_FILE", str(path))
    return path


def test_join_by_file_name_majority_ties_and_flags(votes_file):
    crowd = votes_for(["neutral/a.jpg", "sad/b.jpg", "happy/c.jpg", "fear/d.jpg", "x/unmatched.jpg", "angry/e.jpg"])
    assert crowd.has_votes.tolist() == [True, True, True, True, False, True]
    assert crowd.majority().tolist() == [N, SAD, N, HAPPY, NO_MAJORITY, ANGRY]
    assert crowd.flagged().tolist() == [False, False, True, True, False, False]
    assert crowd.distribution()[1, SAD] == crowd.distribution()[1, FEAR] == 0.5
    assert crowd.distribution()[4].sum() == 0  # no votes, no distribution
    assert crowd.emotion_votes()[0, N] == 8 and crowd.emotion_votes()[0, SAD] == 2


def test_a_face_whose_only_votes_are_not_emotions_has_no_majority():
    crowd = CrowdVotes(np.array([[0, 0, 0, 0, 0, 0, 0, 2, 3, 5]]), np.array([True]))
    assert crowd.majority().tolist() == [NO_MAJORITY] and crowd.flagged().tolist() == [True]


def test_a_dataset_without_votes_gets_none(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOTION_VOTES_FILE", str(tmp_path / "absent.csv"))
    assert load_votes() == {}
    assert not votes_for(["row 1", "row 2"]).has_votes.any()


def test_sides_with_model_label_or_neither():
    y_true = np.array([SAD, SAD, SAD, N, N])
    y_pred = np.array([N, N, N, N, SAD])
    majority = np.array([N, SAD, HAPPY, N, NO_MAJORITY])
    assert sides(y_true, y_pred, majority).tolist() == ["model", "label", "neither", "model", ""]


def test_crowd_report_counts_against_a_hand_count():
    # five faces: labels, predictions and the crowd's majority written out by hand
    y_true = np.array([SAD, SAD, SAD, N, HAPPY])
    y_pred = np.array([N, N, SAD, N, N])
    counts = np.zeros((5, 10), np.int64)
    for i, column in enumerate([0, 0, 3, 0, 1]):  # neutral, neutral, sadness, neutral, happiness
        counts[i, column] = 10
    report = crowd_report(y_true, np.eye(7)[y_pred], CrowdVotes(counts, np.ones(5, bool)))
    assert report["faces_with_votes"] == 5
    assert report["label_agreement"] == 3 / 5  # faces 3, 4, 5 (sad, neutral, happy) agree with their label
    assert report["accuracy"] == 4 / 5  # the model matches the crowd on faces 1-4
    assert report["mistakes"] == {"n": 3, "sides_with_model": 2, "sides_with_label": 1, "neither": 0}
    assert report["confusion_matrix"][N][N] == 3 and report["confusion_matrix"][HAPPY][N] == 1


def test_cell_headline_filters_and_csv_carry_the_votes():
    y_true = np.array([SAD] * 4 + [N])
    probabilities = np.eye(7)[[N, N, N, N, N]]
    majority = np.array([N, N, SAD, NO_MAJORITY, N])
    cell = np.array([0, 1, 2, 3])  # the sad faces taken for neutral
    assert cell_headline(cell, SAD, N, majority) == (
        "Of 4 sad faces taken for neutral, 3 have crowd votes: 10 people called 67% of them neutral "
        "(the model's answer) and 33% sad (the label).")
    assert cell_headline(cell, SAD, N, np.full(5, NO_MAJORITY)) is None
    assert filter_by_side(cell, y_true, probabilities, majority, "model").tolist() == [0, 1]
    assert filter_by_side(cell, y_true, probabilities, majority, "label").tolist() == [2]
    assert filter_by_side(cell, y_true, probabilities, majority, "all").tolist() == [0, 1, 2, 3]
    counts = np.zeros((5, 10), np.int64)
    counts[0, 0] = 7
    crowd = CrowdVotes(counts, np.array([True, False, False, False, False]))
    table = cell_table([f"f{i}.jpg" for i in range(5)], y_true, probabilities, cell[:2], crowd=crowd)
    assert table["votes neutral"].tolist() == [7, -1] and table["crowd majority"].tolist() == ["neutral", ""]


def test_probability_lines_show_the_votes_beside_the_model():
    votes = np.zeros(7, np.int64)
    votes[N] = 8
    lines = probability_lines(np.eye(7)[SAD], votes=votes).splitlines()
    assert lines[N] == "neu ······   0% ||||||||·· 8" and lines[SAD].startswith("sad ██████ 100% ··········")
    assert "|" not in probability_lines(np.eye(7)[SAD])
