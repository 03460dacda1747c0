"""Stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test --venv fetches get-pip.py from a host outside the package registries, which this
project's machines cannot reach. This does the same job from what is here: pip from ensurepip,
then the requested pip version from the package index. The Makefile copies it into
ansible-test's cache only when no real script is cached.
"""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
