"""Platform adapters: the contract the harness needs from a hosting platform (:mod:`adapter`) and its
implementations (:mod:`client`: the mcproof platform API over HTTPS). The sandbox's server side lives in
:mod:`mcproof_sandbox.platform`. Import submodules directly; this package imports nothing heavy.
"""
