"""The file-cleanup Pod's program: ``python -m videodl.cleanup``.

Run by the operator for a download with ``deletionPolicy: Delete``; it removes the files
the operator names (confined to the output volume) and their download-archive entries.
"""
