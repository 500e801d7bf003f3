"""Reading files into text: the formats (text, HTML, PDF, Word) and the box they are read in.

:func:`index.readers.extract.extract` turns a file's bytes into text; :class:`index.readers.box.Box`
runs it in a worker process under :class:`~index.readers.box.ReadLimits`.
"""
