"""Training across processes on mxnet's parameter server: python3 -m core.launch and --kvstore dist_sync.

Everything runs on 127.0.0.1, with a hard timeout on every process.
"""
import glob
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import ROOT, checkpoint_weights, run_script
from core.launch import LaunchError, parse_args, read_hostfile, worker_threads

TINY = ['--batch-size', '8', '--no-if-drawing', '--context', 'cpu', '--draw-iter-num', '2']
LAUNCH = ['-m', 'core.launch', '--workers', '2', '--servers', '1', '--join-timeout', '60', '--']


def launch(*command, timeout=180):
    return run_script(*LAUNCH, 'python3', *command, timeout=timeout)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose: nobody waits for it only if its parent is gone.
    with open(f'/proc/{pid}/stat') as f:
        return f.read().split(')')[-1].split()[0] != 'Z'


def newest_checkpoint(folder):
    return sorted(glob.glob(os.path.join(folder, 'checkpoints', 'iter-*')))[-1]


@pytest.fixture(scope='module')
def distributed_run(idx_dir, tmp_path_factory):
    """A distributed CGAN run of 4 iterations (2 workers, 1 server): the folder and the launcher's stdout."""
    out = str(tmp_path_factory.mktemp('dist') / 'run')
    result = launch('CGAN/train.py', '--kvstore', 'dist_sync', '--data-dir', idx_dir, '--max-iters', '4',
                    '--output-dir', out, *TINY)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    return out, result.stdout


def test_two_workers_update_the_weights_as_two_devices_of_one_process(idx_dir, tmp_path, distributed_run):
    """2 workers + 1 server against one process splitting the same batches over cpu(0),cpu(1).

    Both compute each share's gradients, sum them and take one Adam step; the
    trained weights must agree. BatchNorm's running statistics are each
    share's own; one process with two devices saves their mean, a distributed
    run worker 0's (docs/distributed.md), so those are left out.
    """
    folder, stdout = distributed_run
    assert '[rank 0] export:' in stdout and '[rank 1] this worker is done' in stdout
    assert re.search(r'\[rank 1\] dist_sync: worker rank 1 of 2', stdout)
    # Only worker 0 wrote: one run folder, with its exports.
    assert os.path.isfile(os.path.join(folder, 'export', 'cgan-generator-info.json'))
    one = run_script('CGAN/train.py', '--data-dir', idx_dir, '--max-iters', '4', '--output-dir',
                     str(tmp_path / 'one'), *TINY, '--context', 'cpu(0),cpu(1)')
    assert one.returncode == 0, one.stderr
    dist, single = (checkpoint_weights(newest_checkpoint(path)) for path in (folder, str(tmp_path / 'one')))
    assert dist.keys() == single.keys() and len(dist) > 20
    compared = 0
    for key in dist:
        if 'running_' in key:
            continue
        np.testing.assert_allclose(dist[key], single[key], rtol=1e-4, atol=1e-5, err_msg=key)
        compared += 1
    assert compared > 15


def test_a_distributed_run_resumes_exactly(idx_dir, tmp_path, distributed_run):
    """2 iterations, then --resume to 4: the weights equal those of a distributed run that never stopped.

    Every array of worker 0's checkpoint is compared, BatchNorm's running
    statistics and the moving average included: worker 0 reloads its own.
    """
    out, straight = str(tmp_path / 'run'), distributed_run[0]
    first = launch('CGAN/train.py', '--kvstore', 'dist_sync', '--data-dir', idx_dir, '--max-iters', '2',
                   '--output-dir', out, *TINY)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr
    second = launch('CGAN/train.py', '--kvstore', 'dist_sync', '--data-dir', idx_dir, '--max-iters', '4',
                    '--output-dir', out, '--resume', *TINY)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr
    assert 'resumed from' in second.stdout and newest_checkpoint(out).endswith('iter-00000004')
    resumed, uninterrupted = (checkpoint_weights(newest_checkpoint(folder)) for folder in (out, straight))
    assert resumed.keys() == uninterrupted.keys() and any(k.startswith('generator_average.params:') for k in resumed)
    for key in resumed:
        np.testing.assert_allclose(resumed[key], uninterrupted[key], rtol=1e-5, atol=1e-7, err_msg=key)


def start_training_job(idx_dir, folder):
    """A long distributed CGAN run, once both workers train: (the launcher's Popen, {launch index: pid})."""
    command = [sys.executable, *LAUNCH, 'python3', 'CGAN/train.py', '--kvstore', 'dist_sync', '--data-dir', idx_dir,
               '--max-iters', '100000', '--output-dir', folder, *TINY]
    job = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)
    pids, lines = {}, []
    deadline = time.monotonic() + 120
    for line in job.stdout:
        lines.append(line)
        match = re.match(r'\[launch\] worker (\d): pid (\d+)', line)
        if match:
            pids[int(match.group(1))] = int(match.group(2))
        if 'cgan epoch 1/' in line or time.monotonic() > deadline:
            break
    assert len(pids) == 2, ''.join(lines)
    return job, pids


def finish(job, timeout=60):
    """The rest of the job's (stdout, stderr), killing it if it outlives ``timeout``."""
    try:
        return job.communicate(timeout=timeout)
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
            job.wait()


def test_ctrl_c_stops_every_worker_after_the_same_iteration_and_worker_0_saves(idx_dir, tmp_path):
    job, pids = start_training_job(idx_dir, str(tmp_path / 'run'))
    job.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal sends the launcher
    out, err = finish(job)
    assert job.returncode == 130, out[-2000:] + err
    checkpoint = newest_checkpoint(str(tmp_path / 'run'))
    assert 'continue with: python3 -m core.launch --workers 2 --servers 1 -- python3 CGAN/train.py --resume' in out
    assert os.path.basename(checkpoint) in out and 'Traceback' not in out + err
    assert not any(alive(pid) for pid in pids.values())


def test_a_worker_that_dies_ends_the_job_and_leaves_no_process(idx_dir, tmp_path):
    job, pids = start_training_job(idx_dir, str(tmp_path / 'run'))
    os.kill(pids[1], signal.SIGKILL)
    started = time.monotonic()
    out, err = finish(job)
    assert time.monotonic() - started < 30  # bounded: the launcher stops the rest at once
    assert job.returncode != 0
    assert err.strip().count('\n') == 0 and re.match(r'error: (worker 1|rank \d) was killed; stopped the job', err), err
    assert not any(alive(pid) for pid in pids.values())
    leftovers = subprocess.run(['pgrep', '-f', str(tmp_path)], capture_output=True, text=True).stdout.split()
    assert not leftovers


def test_a_job_whose_workers_never_join_ends_within_the_timeout(tmp_path):
    started = time.monotonic()
    result = run_script('-m', 'core.launch', '--workers', '2', '--servers', '1', '--join-timeout', '3', '--',
                        'python3', '-c', 'import time; time.sleep(600)', timeout=60)
    assert time.monotonic() - started < 30
    assert result.returncode != 0 and 'did not join the job within 3 s' in result.stderr


def test_dist_sync_outside_the_launcher_is_one_line(idx_dir):
    result = run_script('CGAN/train.py', '--kvstore', 'dist_sync', '--data-dir', idx_dir, '--max-iters', '1', *TINY)
    assert result.returncode == 2
    assert result.stderr.strip().startswith('error: --kvstore dist_sync trains as one worker')
    assert 'python3 -m core.launch' in result.stderr and 'Traceback' not in result.stderr
    result = run_script('CGAN/train.py', '--kvstore', 'dist_sync', '--context', 'cpu(0),cpu(1)', '--data-dir', idx_dir)
    assert result.returncode == 2 and 'one device per worker' in result.stderr


def test_launcher_arguments_and_hostfile(tmp_path):
    args = parse_args(['--workers', '3', '--', 'python3', 'train.py', '--kvstore', 'dist_sync'])
    assert args.workers == 3 and args.command == [sys.executable, 'train.py', '--kvstore', 'dist_sync']
    for bad in ([], ['--', ], ['--workers', '0', '--', 'x']):
        with pytest.raises(SystemExit):
            parse_args(bad)
    with pytest.raises(SystemExit) as done:
        parse_args(['--help'])  # the help, not the error that asks for '--'
    assert done.value.code == 0
    hostfile = tmp_path / 'hosts'
    hostfile.write_text('# the cluster\nnode1\n\nnode2:2222  # another port\n')
    assert read_hostfile(str(hostfile)) == [('node1', '22'), ('node2', '2222')]
    hostfile.write_text('node1:ssh\n')
    with pytest.raises(LaunchError, match='not HOST or HOST:PORT'):
        read_hostfile(str(hostfile))
    assert worker_threads(2, cores=2) == 1 and worker_threads(2, cores=16) == 8 and worker_threads(4, cores=2) == 1
