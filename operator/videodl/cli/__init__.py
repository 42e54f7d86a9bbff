"""``kubectl videodl``: the command line of videodl, a kubectl plugin.

The pure modules (:mod:`.formatting`, :mod:`.rows`, :mod:`.waiting`, :mod:`.queueview`,
:mod:`.breakers`, :mod:`.describe`, :mod:`.suggest`, :mod:`.problems`,
:mod:`.operatorconfig`, :mod:`.kinds`) compute what is shown; :mod:`.session` is the one
module that talks to the cluster; :mod:`.render` turns rows into rich tables, JSON or YAML;
:mod:`.app` wires them into commands.
"""
