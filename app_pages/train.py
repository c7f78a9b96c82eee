"""Train & compare: start a run, watch it live, compare finished runs."""

import dataclasses
from pathlib import Path
import time

import streamlit as st

from emotion_core.errors import EmotionCoreError
from emotion_core import runs
from emotion_core.compare import mixed_test_sets, per_class_table, runs_table, describe_test_set, study_table
from emotion_core.config import AUGMENT, CHOICE_NAMES, FLAGS_BY_FIELD, PRESET_DESCRIPTIONS, PRESETS, AugmentConfig
from emotion_core.evaluation import evaluate_run
from emotion_core.models import get_spec, model_names
from emotion_core.plots import per_class_metrics, study_accuracy_figure, training_curves
from emotion_core.reference import STUDY_CHOSEN, STUDY_TABLE1, reference_runs, strategy_names, study_rows, table1_names
from emotion_core.training.launch import launch_training
from app_pages._shared import data_source_picker, plain, show_error, show_figure



def setting(field, value, *, key, container=st, choice="radio", disabled=False):
    """The widget of one training setting: its name, help and allowed values come from the one
    table of settings (config.TRAIN_FLAGS), which TrainConfig.validate also checks."""
    flag = FLAGS_BY_FIELD[field]
    if flag.choices:
        names = CHOICE_NAMES.get(flag.field, {})
        if choice == "radio":
            return container.radio(flag.name, flag.choices, index=flag.choices.index(value), key=key, help=flag.help,
                                   format_func=lambda v: names.get(v, v), horizontal=True)
        return container.selectbox(flag.name, flag.choices, index=flag.choices.index(value), key=key, help=flag.help,
                                   format_func=lambda v: names.get(v, v))
    if flag.type is bool:
        return container.checkbox(flag.name, value, key=key, help=flag.help, disabled=disabled)
    low, high = flag.widget_range()
    if flag.type is int:
        return int(container.number_input(flag.name, int(low), int(high), int(value), key=key, help=flag.help,
                                          disabled=disabled))
    if flag.step < 1e-3:  # a learning rate: typed, not slid
        return float(container.number_input(flag.name, low, high, float(value), step=flag.step, format="%.5f",
                                            key=key, help=flag.help, disabled=disabled))
    return float(container.slider(flag.name, float(low), float(high), float(value), step=flag.step, key=key,
                                  help=flag.help, disabled=disabled))


def sentence(text):
    """'experiment 7: ...' -> 'Experiment 7: ....' (str.capitalize would lower 'VGG16')."""
    return text[:1].upper() + text[1:] + "."


def train_form():
    """The run's settings as (TrainConfig, recipe name); switching the recipe resets the widgets to its values."""
    # Names in the boxes, descriptions in captions: at 1024 px a long option is cut off mid-word.
    preset = st.selectbox("Recipe", list(PRESET_DESCRIPTIONS), key="train_preset")  # a test checks every preset is here
    base = PRESETS[preset]
    st.caption(sentence(PRESET_DESCRIPTIONS[preset]))
    if base.init_from:
        st.caption(f"Starts from the weights of the shipped model, so keep its architecture ({base.model}). "
                   "Needs FER2013 in the Kaggle layout: the crowd's votes are keyed by its file names.")
    k = f"_{preset}"  # widget keys per recipe, so a new recipe brings its own defaults
    data = data_source_picker(key="train_data", label="Data", split="train")
    model = st.selectbox("Architecture", model_names(), index=model_names().index(base.model), key="train_model" + k)
    st.caption(sentence(get_spec(model).description))
    transfer = transfer_form(base, k) if get_spec(model).family == "transfer" else {}
    imbalance = setting("imbalance", base.imbalance, key="train_imb" + k)
    labels = setting("labels", base.labels, key="train_labels" + k)
    crowd_share = base.crowd_share
    if labels == "blend":
        crowd_share = setting("crowd_share", base.crowd_share, key="train_crowd_share" + k)
    teachers, teacher_share = distil_form(base, k)
    with st.expander("Augmentation"):
        a = base.augment
        augment = AugmentConfig(**{field.removeprefix(AUGMENT): setting(field, getattr(a, field.removeprefix(AUGMENT)),
                                                                          key=f"train_{field.removeprefix(AUGMENT)}{k}")
                                   for field in FLAGS_BY_FIELD if field.startswith(AUGMENT)})
    with st.expander("Training", expanded=True):
        # Numbers in pairs, choices full width: at 1024 px a half-width select box shows "cosi" and "Ada".
        c1, c2 = st.columns(2)
        numbers = {"epochs": c1, "batch_size": c2, "learning_rate": c1, "patience": c2, "limit": c1, "seed": c2}
        chosen = {field: setting(field, getattr(base, field), key=f"train_{field}{k}", container=column)
                  for field, column in numbers.items()}
        chosen["label_smoothing"] = setting("label_smoothing", base.label_smoothing, key="train_ls" + k)
        for field in ("lr_schedule", "optimizer", "precision"):
            chosen[field] = setting(field, getattr(base, field), key=f"train_{field}{k}", choice="select")
    config = dataclasses.replace(base, data=data, model=model, imbalance=imbalance, labels=labels,
                                 crowd_share=float(crowd_share), teachers=teachers,
                                 teacher_share=float(teacher_share), augment=augment, **chosen, **transfer)
    return config, preset


def distil_form(base, k):
    """Teachers for distillation: finished runs whose averaged predictions join the targets.

    Returns (comma-separated run folders, the teachers' share of each target)."""
    with st.expander("Learn from trained runs (distillation)"):
        trained = [i for i in runs.list_runs() if i.state == runs.FINISHED and runs.has_model(i.path)]
        names = {str(i.path): i.name for i in trained}
        chosen = st.multiselect("Teachers", list(names), format_func=names.get, key="train_teachers" + k,
                                placeholder="none: learn from the labels alone",
                                help="each target mixes the labels with these runs' averaged predictions, so "
                                     "one network learns what several agree on (at one network's Live cost)")
        if chosen:  # at 1024 px the boxes' chips show a few letters of each name
            st.caption(plain("Teachers: " + "; ".join(names[c] for c in chosen) + "."))
        share = setting("teacher_share", base.teacher_share, key="train_teacher_share" + k, disabled=not chosen)
    return ",".join(chosen), share


def transfer_form(base, k):
    """Backbone options: mode, convolutions to fine-tune, weights, input size."""
    c1, c2 = st.columns(2)
    mode = setting("transfer_mode", base.transfer_mode, key="train_tmode" + k, container=c1)
    unfreeze = setting("unfreeze", base.unfreeze, key="train_unfreeze" + k, container=c2, disabled=mode == "feature")
    weights = c1.radio("Weights", ["imagenet", "none"], key="train_weights" + k, horizontal=True,
                       format_func={"imagenet": "ImageNet (needs internet once)", "none": "Random init"}.get)
    input_size = setting("input_size", base.input_size, key="train_insize" + k, container=c2)
    return {"transfer_mode": mode, "unfreeze": int(unfreeze), "weights": weights, "input_size": int(input_size)}


WATCH_KEY = "train_run_select"  # the run the live view follows (Start sets it to the new run)


def watched_run(infos):
    """The run the live view follows: the one chosen or started here, else the newest running, else the newest."""
    by_path = {str(i.path): i for i in infos}
    wanted = st.session_state.get(WATCH_KEY)
    if wanted in by_path:
        return by_path[wanted]
    running = [i for i in infos if i.state == runs.RUNNING]
    return (running or infos or [None])[0]


@st.fragment(run_every=2)
def live_view():
    """Progress, curves and Stop for one run; re-reads the run folder every 2 seconds."""
    infos = runs.list_runs()
    if not infos:
        st.info("No runs yet. Choose settings on the left and press **Start training**.")
        return
    current = watched_run(infos)
    paths = [str(i.path) for i in infos]
    # The box shows the folder (short, unique, fixed while a run runs); the full name follows as a
    # caption, which wraps: at 1024 px a 60-character name does not fit a select box.
    st.session_state[WATCH_KEY] = str(current.path)
    choice = st.selectbox("Run", paths, format_func=lambda path: Path(path).name, key=WATCH_KEY)
    info = runs.load_run(choice)
    st.caption(plain(info.name))
    status = info.status
    stopping = info.state == runs.RUNNING and runs.stop_requested(info.path)
    shown = runs.progress(status, stopping=stopping)
    st.progress(shown["fraction"], text=shown["caption"])
    if info.state == runs.RUNNING:
        # Acting in the callback records the click even when the 2-s rerun of this fragment races it.
        st.button("Stopping…" if stopping else "Stop", icon=":material/stop_circle:", disabled=stopping,
                  on_click=runs.request_stop, args=(info.path,), help="ends the run and keeps its best model")
    if info.damaged:
        st.warning(plain(f"This run folder is damaged: {info.damaged}"))
    if info.state in (runs.FAILED, runs.LOST):
        st.error(plain(f"This run {info.state}: {status.get('error', 'its process ended without a word (killed?)')}"))
    metrics, batches = runs.read_metrics(info.path), runs.read_metrics(info.path, batches=True)
    if metrics or batches:
        figure = training_curves({info.name: metrics}, batches={info.name: batches})
        show_figure(figure, key="train_live_curves")
        st.caption("Thin line: training loss and accuracy within epochs, recorded every few seconds. "
                   "Dots: at each epoch's end, solid training and dashed validation; the star marks the "
                   "epoch the run keeps.")
    elif info.state == runs.RUNNING:
        st.caption("The curves appear after the first batches, within seconds.")
    if info.evaluation:
        macro_f1 = info.evaluation.get("macro_f1")
        st.info(f"Accuracy on {plain(describe_test_set(info.evaluation))}: "
                f"**{info.evaluation['accuracy']:.1%}**" + (f" (macro F1 {macro_f1:.3f})" if macro_f1 is not None else ""))


STARTED_KEY = "train_started"  # (run folder, time) of this session's last Start
DOUBLE_CLICK_S = 5.0


def start_training(config, recipe):
    """Start a run from the form's current values. A second click within a few seconds of a
    start from this session is the same intent (a double click), so it is absorbed quietly; any
    other second training is refused by the server-side lock in launch_training."""
    started = st.session_state.get(STARTED_KEY)
    if started and time.time() - started[1] < DOUBLE_CLICK_S:
        return
    try:
        run_dir = launch_training(config, recipe=recipe, name=st.session_state.get("train_run_name", ""))
    except EmotionCoreError as error:
        show_error(error)
        return
    st.session_state[STARTED_KEY] = (str(run_dir), time.time())
    st.session_state[WATCH_KEY] = str(run_dir)
    st.toast("Training started in its own process.")


def train_tab():
    left, right = st.columns([2, 3], gap="large")
    with left:
        start = st.container()  # drawn first, filled last: Start stays above the fold
        config, recipe = train_form()  # read before acting: a click must start what the form shows now
        with start:
            st.text_input("Short name (optional)", key="train_run_name", max_chars=60,
                          placeholder="e.g. no class weights")
            if st.button("Start training", type="primary", icon=":material/play_arrow:",
                         help="one training at a time on this server"):
                start_training(config, recipe)
    with right:
        live_view()


def selected_runs(table):
    """The run table with sorting (click a header), filters, and multi-row selection."""
    c1, c2 = st.columns([2, 1])
    text = c1.text_input("Filter by name, data or architecture", key="train_run_filter")
    states = c2.multiselect("State", runs.STATES, key="train_state_filter")
    shown = table
    if text:
        haystack = shown["name"] + " " + shown["data"] + " " + shown["architecture"].fillna("")
        shown = shown[haystack.str.contains(text, case=False, regex=False)]
    if states:
        shown = shown[shown["state"].isin(states)]
    event = st.dataframe(shown.drop(columns="path"), hide_index=True, on_select="rerun", selection_mode="multi-row",
                         key="train_run_table", width="stretch",
                         column_config={c: st.column_config.NumberColumn(format="%.3f")
                                        for c in ("best val accuracy", "test accuracy", "crowd accuracy", "macro F1")})
    return shown.iloc[event.selection.rows] if event.selection.rows else shown.iloc[:0]


def compare_selected(chosen):
    infos = [runs.load_run(p) for p in chosen["path"]]
    show_figure(training_curves({i.name: runs.read_metrics(i.path) for i in infos}))
    reports = {i.name: i.evaluation for i in infos if i.evaluation}
    mixed = mixed_test_sets(reports.values())
    if mixed:
        st.warning("These runs were tested on different faces (" + "; ".join(mixed) + "): their accuracies "
                   "and per-class bars are not directly comparable. Evaluate them on one test set below.")
    if reports:
        metric = st.radio("Per-class metric", ["f1-score", "precision", "recall"], horizontal=True)
        show_figure(per_class_metrics(reports, metric=metric))
        st.dataframe(per_class_table(reports).style.format(precision=3), width="stretch")
    else:
        st.caption("None of the selected runs has been evaluated yet.")


def manage_run(chosen):
    """Rename, delete (with confirmation) or evaluate the first selected run."""
    info = runs.load_run(chosen["path"].iloc[0])
    st.markdown(f"**{plain(info.name)}** — {plain(info.path)}")
    c1, c2, c3 = st.columns(3)
    with c1.form("train_rename"):
        name = st.text_input("New name", info.name)
        if st.form_submit_button("Rename"):
            _act(lambda: runs.rename_run(info.path, name, root=runs.runs_root()))
    with c2:
        sure = st.checkbox("Yes, delete this run and its model", key="train_confirm_delete")
        if st.button("Delete", disabled=not sure):
            _act(lambda: runs.delete_run(info.path, root=runs.runs_root()))
    with c3:
        source = data_source_picker(key="train_eval_source", label="Test set")
        if st.button("Evaluate on its test split", disabled=info.state == runs.RUNNING):
            bar = st.progress(0.0, text="predicting…")
            _act(lambda: evaluate_run(info.path, source, progress=lambda d, t: bar.progress(d / t, text=f"{d}/{t} faces")))


def _act(action):
    try:
        action()
        st.rerun()
    except EmotionCoreError as error:  # the one family users cause; anything else is a bug and surfaces
        show_error(error)


def reference_section(references):
    """The study's experiments, shipped as read-only runs: its comparison at one click."""
    st.subheader("Reference runs (shipped)")
    epochs = references[0].config.get("epochs")
    st.caption(f"The study's experiments, trained once with one recipe (its augmentation, {epochs} epochs each) "
               "and shipped with the app: nothing to wait for. They are read-only; they appear in the table "
               "below and on the Mistakes page.")
    if not st.toggle("Show the study's comparison", key="train_show_study"):
        return
    rows = study_rows(references)
    st.markdown("**Table 1: the study's CNN experiments.** Grey: the test accuracy the study *reported*; "
                "blue: what this app *measured* on FER2013 PublicTest with its shipped reference runs.")
    show_figure(study_accuracy_figure(rows[:len(STUDY_TABLE1)], epochs=epochs), key="train_study_bars")
    st.dataframe(study_table(rows), hide_index=True, width="stretch",  # the figures in view at 1024 px
                 column_config={"experiment": st.column_config.TextColumn(width="medium"),
                                "architecture": st.column_config.TextColumn(width=100)})
    st.caption(plain(f"Reported by the study: {STUDY_CHOSEN}. Transfer learning needs ImageNet weights, which "
                     "this app can use only from Keras's cache (see the transfer form), so those rows show the "
                     "study's figures alone."))
    table1 = [i for i in references if i.path.name in table1_names()]
    if table1:
        show_figure(training_curves({i.name: runs.read_metrics(i.path) for i in table1}), key="train_study_curves")
    strategies = {i.name: i.evaluation for i in references if i.path.name in strategy_names() and i.evaluation}
    if strategies:
        st.markdown("**Class imbalance: the study's CNN three ways.** Recall per emotion: disgust has only "
                    "436 training faces, and how a run treats them decides whether it ever says *disgust*.")
        show_figure(per_class_metrics(strategies, metric="recall"), key="train_study_recall")


def compare_tab():
    references = reference_runs()
    if references:
        reference_section(references)
    infos = runs.list_runs() + references
    if not infos:
        st.info("Finished runs appear here for side-by-side comparison.")
        return
    st.subheader("Compare runs")
    chosen = selected_runs(runs_table(infos))
    if chosen.empty:
        st.caption("Select runs in the table (tick the rows) to overlay their curves and compare them per class.")
        return
    compare_selected(chosen)
    with st.expander("Rename, delete or evaluate the first selected run"):
        manage_run(chosen)


st.title("Train & compare")
train, compare = st.tabs(["Train", "Compare"])
with train:
    train_tab()
with compare:
    compare_tab()
