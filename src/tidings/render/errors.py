"""The errors rendering raises, in one tree.

```
ValueError
 └── RenderError                 template, line and message of any render failure
      ├── TemplateNotFound       no such template, locale file or include
      ├── TemplateSyntaxError    the source does not compile
      ├── SandboxViolation       unsafe attribute, call or mutation refused by the sandbox
      ├── RenderTimeout          the render passed its deadline
      └── RenderLimitExceeded    output size, iteration budget or a size guard refused
```

Foreign errors (Jinja, Babel, Python's own while evaluating a template) are
translated once, in :mod:`tidings.render.sandbox`, with ``raise ... from exc``.
"""

from __future__ import annotations

__all__ = [
    "RenderError",
    "RenderLimitExceeded",
    "RenderTimeout",
    "SandboxViolation",
    "TemplateNotFound",
    "TemplateSyntaxError",
]


class RenderError(ValueError):
    """A template could not be rendered.

    ``template`` is the template name when known, ``line`` the 1-based line of
    the template source when known, ``message`` the bare reason.
    """

    def __init__(self, message: str, template: str | None = None,
                 line: int | None = None) -> None:
        self.message = message
        self.template = template
        self.line = line
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = self.template or "<template>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"

    def located(self, template: str | None, line: int | None) -> RenderError:
        """Fill in a location the raiser did not know; returns ``self``."""
        if self.template is None:
            self.template = template
        if self.line is None:
            self.line = line
        self.args = (self._describe(),)
        return self

    def __str__(self) -> str:
        return self._describe()


class TemplateNotFound(RenderError):
    """A template, a locale variant or an included file does not exist."""


class TemplateSyntaxError(RenderError):
    """The template source does not compile."""


class SandboxViolation(RenderError):
    """The sandbox refused an unsafe attribute, call or mutation."""


class RenderTimeout(RenderError):
    """The render ran past its deadline."""


class RenderLimitExceeded(RenderError):
    """Output size, iteration budget or a size guard was exceeded."""
