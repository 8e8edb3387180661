"""README.md and docs/*.md: every file they point at exists, and every command names options its script knows."""
import argparse
import glob
import importlib.util
import os
import re
import shlex
from unittest import mock

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = ['README.md'] + sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, 'docs', '*.md')))

# A backticked name ending in one of these, with a '/' in it, is taken for a file of the repository.
FILE_ENDINGS = ('.py', '.md', '.png', '.json', '.jsonl', '.txt', '.ini', '.cfg', '.toml', '.params')
# Folders of the repository: a backticked path that starts with one of these must exist.
REPO_FOLDERS = ('core/', 'CGAN/', 'bench/', 'tests/', 'configs/', 'docs/', '.ci/')
# What runs write (relative to the repository or to a run folder), and data a user brings: not in git.
OUTPUTS = ('runs/', 'model_export/', 'data-cache/', 'samples/', 'checkpoints/', 'export/', 'bench/.venv-torch',
           'cifar-10-batches-bin/', 'oxygen/', 'mnist/')


def _read(page):
    with open(os.path.join(ROOT, page)) as f:
        return f.read()


def _prose(text):
    """The text outside fenced code blocks."""
    return re.sub(r"```.*?```", '', text, flags=re.S)


def _targets(text):
    """Targets of [text](target) and ![alt](target) outside code, without web links."""
    targets = re.findall(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", _prose(text))
    return [t for t in targets if not re.match(r'[a-z]+:', t)]


def links(text):
    """The files that links point at (anchors dropped; links within the page left out)."""
    return [t.split('#')[0] for t in _targets(text) if not t.startswith('#')]


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^a-z0-9 _-]", '', heading.strip().lower()).replace(' ', '-')


def anchors(text):
    return {slug(h) for h in re.findall(r"^#+ (.*)$", _prose(text), re.M)}


def backticked_paths(text):
    """Backticked names that look like repository files or folders (run outputs and placeholders left out)."""
    paths = []
    for token in re.findall(r"`([^`\s]+)`", _prose(text)):
        token = token.rstrip('.,:;')
        if '/' not in token or token.startswith(('/', '~', '<', 'http', '-', '.venv')) or '*' in token:
            continue
        if token.startswith(OUTPUTS) or re.search(r"\b(NAME|ROLE|FILE|FOLDER|RUN)\b", token):  # placeholders
            continue
        if token.endswith(FILE_ENDINGS) or token.startswith(REPO_FOLDERS):
            paths.append(token)
    return paths


def missing_files(page, text):
    """What ``page`` (a path relative to the repository) points at that does not exist."""
    here = os.path.dirname(os.path.join(ROOT, page))
    missing = [f"{page}: link {t}" for t in links(text) if not os.path.exists(os.path.normpath(os.path.join(here, t)))]
    missing += [f"{page}: `{t}`" for t in backticked_paths(text) if not os.path.exists(os.path.join(ROOT, t))]
    for target in _targets(text):  # an anchor into a Markdown page must name one of its headings
        path, _, anchor = target.partition('#')
        other = os.path.normpath(os.path.join(here, path)) if path else os.path.join(ROOT, page)
        if anchor and other.endswith('.md') and os.path.exists(other) and anchor not in anchors(_read(other)):
            missing.append(f"{page}: anchor {target}")
    return missing


def test_the_link_and_path_finders_see_what_they_should():
    text = ("See [the recipes](docs/recipes.md#levers), ![a grid](bench/grid.png) and [web](https://x.org).\n"
            "Edit `core/config.py`, read `core/networks/`, `runs/00001-cgan/config.json` and `NAME-ROLE.onnx`.\n"
            "```sh\npython3 train.py --config configs/not-a-link.json\n```\n")
    assert links(text) == ['docs/recipes.md', 'bench/grid.png']
    assert backticked_paths(text) == ['core/config.py', 'core/networks/']
    assert missing_files('README.md', "![x](bench/no-such-picture.png) `core/no_such_module.py`") == [
        'README.md: link bench/no-such-picture.png', 'README.md: `core/no_such_module.py`']
    # Links in docs/ are relative to docs/, as GitHub reads them.
    assert missing_files('docs/x.md', "![grid](../bench/cgan-tuned-1-epoch.png)") == []
    assert slug("Progress, Ctrl-C and resuming") == 'progress-ctrl-c-and-resuming'
    assert missing_files('docs/x.md', "[ok](recipes.md#how-the-tuned-recipe-was-chosen) [bad](recipes.md#no-such)") \
        == ['docs/x.md: anchor recipes.md#no-such']
    assert missing_files('docs/x.md', "![grid](bench/cgan-tuned-1-epoch.png)") != []


@pytest.mark.parametrize('page', PAGES)
def test_every_link_and_referenced_file_exists(page):
    text = _read(page)
    assert missing_files(page, text) == []


def test_the_docs_are_there_and_the_readme_is_short():
    assert len(PAGES) >= 8
    readme = _read('README.md')
    assert len(readme.splitlines()) <= 300
    assert all(os.path.relpath(p, 'docs') in links(readme) or p in links(readme) for p in PAGES[1:]), \
        'the README links every page of docs/'
    assert sum(len(backticked_paths(_read(p))) + len(links(_read(p))) for p in PAGES) > 50  # the finders see them


class _Caught(Exception):
    pass


def parser_of(call):
    """The ArgumentParser that ``call()`` builds, caught when it starts to parse: nothing after that runs."""
    caught = []

    def catch(parser, *args, **kwargs):
        caught.append(parser)
        raise _Caught

    with mock.patch.object(argparse.ArgumentParser, 'parse_args', catch):
        with pytest.raises(_Caught):
            call()
    return caught[0]


def script_main(path):
    """The ``main(argv)`` of one of the project's scripts, e.g. 'CGAN/test.py', imported under a name of its own."""
    spec = importlib.util.spec_from_file_location('script_' + re.sub(r'\W', '_', path), os.path.join(ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def launcher_parser():
    from core import launch
    return parser_of(lambda: launch.parse_args(['--', 'python3']))


# The parser of each of the project's command-line programs, as the program itself builds it, in-process.
PARSERS = {script: (lambda script=script: parser_of(lambda: script_main(script)([])))
           for script in ('train.py', 'test.py', 'CGAN/train.py', 'CGAN/test.py')}
PARSERS['-m core.launch'] = launcher_parser
PARSERS['-m core.judge'] = lambda: parser_of(lambda: __import__('core.judge').judge.main([]))
PARSERS['-m core.project'] = lambda: parser_of(lambda: __import__('core.project').project.main([]))
PARSERS['bench/own_pictures.py'] = lambda: parser_of(lambda: script_main('bench/own_pictures.py')([]))


def shell_commands(text):
    """Each simple command (split at &&, ||, ;, |) of the ```sh blocks, as a list of words."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.replace('\\\n', ' ').splitlines():
            line = line.split(' #')[0].strip()
            for part in re.split(r"\s*(?:&&|\|\||;|\|)\s*", line):
                if part:
                    commands.append(shlex.split(part))
    return commands


def program(words):
    """(the program's key in PARSERS, its arguments) for a Python command of this project, else None."""
    if not words or not os.path.basename(words[0]).startswith('python'):
        return None
    if len(words) > 2 and words[1] == '-m' and words[2].split('.')[0] == 'core':
        return f"-m {words[2]}", words[3:]
    script = words[1] if len(words) > 1 else ''
    if script.endswith('.py') and os.path.exists(os.path.join(ROOT, script)):
        return script, words[2:]
    return None


def inline_commands(text):
    """The backticked commands (`python3 train.py ...`) outside code blocks, as lists of words."""
    flat = ' '.join(_prose(text).split())
    return [shlex.split(c) for c in re.findall(r"`((?:\.venv/bin/)?python3? [^`]+)`", flat)]


_KNOWN = {}


def _options(key):
    """Every option string of the program's parser (built once per test session)."""
    if key not in _KNOWN:
        _KNOWN[key] = {s for action in PARSERS[key]()._actions for s in action.option_strings}
    return _KNOWN[key]


def test_the_parsers_are_the_scripts_own():
    assert {'--epochs', '--discriminator-type', '--config', '--resume', '--help'} <= _options('train.py')
    assert {'--digits', '--num', '--onnx', '--export-dir'} <= _options('CGAN/test.py')
    assert '--digits' not in _options('test.py') and '--vary' in _options('test.py')
    assert {'--workers', '--servers', '--hostfile', '--port'} <= _options('-m core.launch')
    assert {'--digit', '--restarts', '--gif', '--judge'} <= _options('-m core.project')


def unknown_options(words, strict=True):
    """The --options of a command (and of one that it launches after '--') that its program's parser lacks.

    A program of this project without a parser in PARSERS is a problem if ``strict``, else it is skipped.
    """
    found = program(words)
    if found is None:
        return []
    key, args = found
    if key not in PARSERS:
        return [f"{key}: no parser known to tests/test_docs.py"] if strict else []
    rest = []
    if key == '-m core.launch' and '--' in args:
        args, rest = args[:args.index('--')], args[args.index('--') + 1:]
    known = _options(key)
    bad = [f"{key}: {a.split('=')[0]}" for a in args if a.startswith('--') and a.split('=')[0] not in known]
    for label_and_command in runs_of(key, args):  # bench/own_pictures.py --run 'LABEL=train.py OPTIONS'
        bad += unknown_options(['python3'] + shlex.split(label_and_command.partition('=')[2]), strict)
    return bad + unknown_options(rest, strict)


def runs_of(key, args):
    """The values of ``--run`` where the program takes training commands there (bench/own_pictures.py)."""
    if key != 'bench/own_pictures.py':
        return []
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a == '--run']


def test_a_made_up_option_is_reported():
    text = ("```sh\npython3 train.py --epochs 1 --no-such-option 3 && python3 CGAN/test.py --digits 314\n"
            "python3 -m core.launch --workers 2 -- python3 CGAN/train.py --kvstore dist_sync --bogus\n"
            ".venv/bin/python test.py --onnx --digits 3\npip install tensorboard\n```\n")
    assert [unknown_options(c) for c in shell_commands(text)] == [
        ['train.py: --no-such-option'], [], ['CGAN/train.py: --bogus'], ['test.py: --digits'], []]
    assert unknown_options(['python3', '-m', 'core.judge', '--floor', '--bogus']) == ['-m core.judge: --bogus']
    assert unknown_options(['python3', '-m', 'core.sampling', '--x']) == ['-m core.sampling: no parser known to '
                                                                         'tests/test_docs.py']
    assert unknown_options(['python3', '-m', 'core.sampling', '--x'], strict=False) == []
    assert unknown_options(['python3', 'bench/own_pictures.py', '--name', 'n', '--run', 'a=train.py --epochs 1 --bogus',
                            '--run', 'b=CGAN/train.py --widht 2']) == ['train.py: --bogus', 'CGAN/train.py: --widht']
    assert inline_commands("Run `python3 CGAN/test.py --digits 3 1 4`, then\n`python3 train.py\n--epochs 1`.") == [
        ['python3', 'CGAN/test.py', '--digits', '3', '1', '4'], ['python3', 'train.py', '--epochs', '1']]


def test_every_readme_and_docs_command_names_options_its_script_knows():
    commands = [(page, c) for page in PAGES for c in shell_commands(_read(page))]
    ours = [(page, c) for page, c in commands if program(c)]
    readme = [c for page, c in ours if page == 'README.md']
    assert len(readme) >= 10, readme  # the README's commands were found (the check can fail)
    assert {program(c)[0] for c in readme} >= {'train.py', 'test.py', 'CGAN/train.py', 'CGAN/test.py',
                                              '-m core.launch'}
    bad = [f"{page}: {' '.join(c)}: {problem}" for page, c in ours for problem in unknown_options(c)]
    assert bad == []


def test_every_command_in_the_readme_text_names_options_its_script_knows():
    """The README's backticked commands too (those of bench/ and core.judge have no parser here: skipped)."""
    commands = inline_commands(_read('README.md'))
    assert len([c for c in commands if program(c) and program(c)[0] in PARSERS]) >= 10, commands
    bad = [f"{' '.join(c)}: {problem}" for c in commands for problem in unknown_options(c, strict=False)]
    assert bad == []
