# ruff: noqa: E501
"""Pipeline configs: a user's mapping replaces the default, and every problem is reported at
once, before anything is computed (issue 10, items 4 and the unactionable errors)."""

from __future__ import annotations

import copy

import pytest
import yaml

from hyperalign.pipeline import SCHEMA, ConfigError, apply_overrides, load_config
from hyperalign.pipeline.config import DEFAULT_CONFIG


def _mapping_keys(node=SCHEMA, prefix=""):
    """Every key of the schema whose value may be a mapping (below the top-level sections)."""
    out = []
    for k, sub in node.get("properties", {}).items():
        path = f"{prefix}{k}"
        t = sub.get("type")
        types = set(t) if isinstance(t, list) else {t}
        if prefix and "object" in types:
            out.append(path)
        if "properties" in sub:
            out += _mapping_keys(sub, path + ".")
    return out


#: A user value for every mapping-valued key, smaller than (or different from) the default.
USER_MAPPINGS = {
    "features.layers": {"model": "all-MiniLM-L6-v2"},
    "coupling.bands": {"theta": [4.0, 8.0]},
    "coupling.rois": {"front": ["Fz"]},
    "coupling.filter_kwargs": {"l_trans_bandwidth": 1.0},
    "execution.scheduler": {"cluster": "slurm", "jobs": 2},
    "coupling.surrogates": {"method": "phase_randomization", "n": 3},
}


def test_every_mapping_key_is_covered():
    assert sorted(_mapping_keys()) == sorted(USER_MAPPINGS)


@pytest.mark.parametrize("dotted", sorted(USER_MAPPINGS))
def test_user_mapping_replaces_the_default(tmp_path, dotted):
    sec, key = dotted.split(".")
    user = {"name": "x", sec: {key: USER_MAPPINGS[dotted]}}
    f = tmp_path / "p.yaml"
    f.write_text(yaml.safe_dump(user))
    cfg = load_config(f)
    assert cfg[sec][key] == USER_MAPPINGS[dotted]  # not merged with the default's entries
    default = yaml.safe_load(DEFAULT_CONFIG.read_text())
    for other, v in default[sec].items():  # the rest of the section keeps its defaults
        if other != key:
            assert cfg[sec][other] == v


def test_bands_theta_only_runs_theta_only(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("name: x\ncoupling:\n  bands: {theta: [4, 8]}\n")
    assert list(load_config(f)["coupling"]["bands"]) == ["theta"]


def test_set_dotted_entry_inside_a_mapping_sets_that_entry_only():
    cfg = load_config({"name": "x"}, {"coupling.bands.theta": "[3, 7]"})
    default_bands = yaml.safe_load(DEFAULT_CONFIG.read_text())["coupling"]["bands"]
    assert cfg["coupling"]["bands"] == {**default_bands, "theta": [3, 7]}
    cfg = load_config({"name": "x"}, {"coupling.bands": "{theta: [3, 7]}"})
    assert cfg["coupling"]["bands"] == {"theta": [3, 7]}


@pytest.mark.parametrize(
    "key, raw, expected",
    [
        ("data.task", "01", "01"),  # a string key keeps leading zeros
        ("name", "yes", "yes"),  # not turned into True
        ("stats.n_permutations", "1e3", 1000),  # a number where a number is expected
        ("stats.n_permutations", "200", 200),
        ("stats.alpha", ".01", 0.01),
        ("stats.correction", "null", None),
        ("data.random_state", "null", None),
        ("coupling.metrics", "[plv, wpli]", ["plv", "wpli"]),
        ("stats.semantic", "sem_align", ["sem_align"]),  # one string for a list: a list
        ("coupling.lags", "0.1", [0.1]),  # one number for a list: a list
    ],
)
def test_set_values_are_typed_by_the_schema(key, raw, expected):
    extra = {"coupling.metrics": "[plv, wpli]"} if key != "coupling.metrics" else {}
    cfg = load_config({"name": "x"}, {key: raw, **extra})
    sec, _, k = key.partition(".")
    got = cfg[sec][k] if k else cfg[sec]
    assert got == expected and type(got) is type(expected)


def test_integral_float_in_an_integer_key_becomes_an_int():
    cfg = load_config({"name": "x", "stats": {"n_permutations": 100.0}})
    assert cfg["stats"]["n_permutations"] == 100
    assert isinstance(cfg["stats"]["n_permutations"], int)


BAD = [
    # (user config, overrides, expected message fragments)
    ({"coupling": {"bands": {"theta": [8, 4]}}}, {}, ["coupling.bands.theta", "fmin must be below fmax"]),
    ({"coupling": {"bands": {"theta": [6, 6]}}}, {}, ["fmin must be below fmax"]),
    ({"coupling": {"bands": {"low": [0, 4]}}}, {}, ["coupling.bands.low", "fmin must be > 0"]),
    ({"coupling": {"bands": {"gamma": [30, 70]}}, "data": {"sfreq": 128.0}}, {}, ["fmax must be below the Nyquist frequency 64"]),
    ({"coupling": {"bands": {}}}, {}, ["coupling.bands: empty"]),
    ({"coupling": {"bands": {"theta": [4]}}}, {}, ["coupling.bands.theta"]),
    ({"data": {"n_dyads": 2}}, {}, ["data.n_dyads: 2", "at least 3 dyads"]),
    ({"stats": {"groups": "dyda"}}, {}, ["stats.groups: 'dyda'", "did you mean 'dyad'"]),
    ({"stats": {"semantic": ["sem_algn"]}}, {}, ["stats.semantic: 'sem_algn'", "did you mean 'sem_align'"]),
    ({"stats": {"semantic": []}}, {}, ["stats.semantic: empty"]),
    ({"stats": {"acoustic": ["acsim"]}, "features": {"acoustic": False}}, {}, ["needs features.acoustic: true"]),
    ({"stats": {"semantic": ["sem_align_static"]}, "features": {"controls": []}}, {}, ["needs features.controls"]),
    ({"stats": {"acoustic": ["acsim_speech"]}, "features": {"speech_embeddings": False}}, {}, ["needs features.speech_embeddings"]),
    ({"stats": {"semantic": ["sem_align_layer_3"]}, "features": {"layers": None}}, {}, ["needs features.layers.model"]),
    ({"stats": {"sync": "sync_z"}, "coupling": {"surrogates": None}}, {}, ["stats.sync: 'sync_z' needs surrogates"]),
    ({"stats": {"sync": "synchrony"}}, {}, ["stats.sync: 'synchrony' is not a synchrony column"]),
    ({"stats": {"metric": "wpli"}}, {}, ["stats.metric: 'wpli' is not computed"]),
    ({"coupling": {"metrics": ["plv", "bogus"]}}, {}, ["coupling.metrics", "unknown metric 'bogus'"]),
    ({"stats": {"by": ["band", "region"]}}, {}, ["stats.by: 'region'"]),
    ({"stats": {"n_permutations": 1.5}}, {}, ["stats.n_permutations: got 1.5", "give an integer"]),
    ({"stats": {"n_permutations": True}}, {}, ["stats.n_permutations: got True", "give an integer"]),
    ({"stats": {"n_permutations": "100"}}, {}, ["stats.n_permutations: got '100'", "give an integer"]),
    ({"stats": {"n_permutations": -5}}, {}, ["stats.n_permutations", "minimum"]),
    ({"stats": {"n_permutations": 0, "correction": "maxstat"}}, {}, ["correction 'maxstat' needs permutations"]),
    ({"stats": {"correction": "max"}}, {}, ["stats.correction: got 'max'", "allowed"]),
    ({"stats": {"alpha": 1.5}}, {}, ["stats.alpha"]),
    ({"execution": {"n_jobs": 0}}, {}, ["execution.n_jobs: 0"]),
    ({"coupling": {"rois": "frontal"}}, {}, ["coupling.rois: 'frontal'", "'auto', null"]),
    ({"coupling": {"rois": {"front": []}}}, {}, ["coupling.rois.front", "non-empty list"]),
    ({"coupling": {"window": -1.0}}, {}, ["coupling.window", "positive number of seconds"]),
    ({"coupling": {"lags": [0.0, float("inf")]}}, {}, ["coupling.lags: inf is not finite"]),
    ({"coupling": {"surrogates": {"method": "circular_shift"}}}, {}, ["coupling.surrogates", "'n' is a required property"]),
    ({"data": {"source": "bids", "root": None}}, {}, ["data.root: empty"]),
    ({"data": {"source": "bids", "root": "/nonexistent/bids"}}, {}, ["data.root: '/nonexistent/bids' is not a folder"]),
    ({"data": {"on_error": "skip"}}, {}, ["data.on_error: got 'skip'", "'exclude', 'raise'"]),
    ({"stat": {}}, {}, ["unknown key 'stat'", "did you mean 'stats'"]),
    ({"coupling": {"bogus": 1}}, {}, ["coupling: unknown key 'bogus'"]),
    ({}, {"stats.n_permutaions": "3"}, ["--set stats.n_permutaions", "did you mean 'n_permutations'"]),
    ({}, {"coupling.bands": "[1, 2"}, ["--set coupling.bands=[1, 2: not a valid YAML value"]),
    ({}, {"nosection.key": "1"}, ["--set nosection.key: unknown key"]),
]  # fmt: skip


@pytest.mark.parametrize("user, overrides, fragments", BAD)
def test_bad_config_is_refused_with_the_key_value_and_fix(user, overrides, fragments):
    with pytest.raises(ConfigError) as err:
        load_config({"name": "x", **copy.deepcopy(user)}, overrides)
    msg = str(err.value)
    for frag in fragments:
        assert frag in msg, (frag, msg)


def test_every_problem_is_listed_at_once():
    user = {
        "name": "x",
        "data": {"n_dyads": 2, "sfreq": 128.0},
        "coupling": {"bands": {"theta": [8, 4], "gamma": [30, 80]}},
        "stats": {"groups": "dyda", "n_permutations": 1.5, "semantic": ["nope"]},
        "execution": {"n_jobs": 0},
    }
    with pytest.raises(ConfigError, match=r"invalid pipeline config \(7 problems") as err:
        load_config(user)
    assert len(err.value.problems) == 7


def test_yaml_syntax_error_names_file_line_and_fix(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("name: x\ncoupling:\n  bands: {theta: [4, 8]\n")
    with pytest.raises(ConfigError, match=r"YAML syntax error: .* at line 4, column 1; fix"):
        load_config(f)


def test_yaml_top_level_list_and_non_utf8_are_refused(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("- name: x\n")
    with pytest.raises(ConfigError, match="expected a mapping of sections at top level; got list"):
        load_config(f)
    f.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"not UTF-8 text \(byte 9\); save the file as UTF-8"):
        load_config(f)


def test_missing_config_or_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="'.*nope.yaml' not found; give the path"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(FileNotFoundError, match="is a folder, not a file"):
        load_config(tmp_path)


def test_apply_overrides_lists_every_unknown_key():
    with pytest.raises(ConfigError, match=r"invalid --set override \(2 problems") as err:
        apply_overrides({"name": "x"}, {"stats.bogus": "1", "coupling.bandz": "{}"})
    assert "did you mean 'bands'" in str(err.value)
