"""Platform adapters: the contract the harness needs from a hosting platform (:mod:`adapter`) and its
implementations (:mod:`client`: the mcproof platform API over HTTPS). The sandbox's server side lives in
the sandbox package (through :mod:`mcproof.connect` only). Import submodules directly; this package imports nothing heavy.
"""
