# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import UTC, date, datetime

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression

# The dates the public methods accept: far enough to hold any real history
# and forecast, near enough that the periods derived from them (comparison,
# sparkline) stay within what Python and PostgreSQL can represent.
API_DATE_MIN = date(1900, 1, 1)
API_DATE_MAX = date(2999, 12, 31)


class CrmPipelineApiMixin(models.AbstractModel):
    """The checks of the arguments of the addon's public methods, called as
    an RPC client calls them: each check returns the argument normalized or
    raises a UserError that starts with the argument's name and says what is
    expected. One place, so that every entry point answers the same way."""

    _name = "crm.pipeline.api.mixin"
    _description = "Pipeline API Argument Checks"

    @api.model
    def _check_pipeline_api_domain(self, name, domain, model_name=None):
        """``domain`` as a list, checked against ``model_name`` (this model by
        default): a list of well-formed conditions on existing fields with
        known operators. None or an empty domain is []."""
        if domain is None or (isinstance(domain, list | tuple) and not domain):
            return []
        if not isinstance(domain, list | tuple):
            raise UserError(
                self.env._(
                    "%(name)s: %(value)r is not a domain (expected a list of "
                    'conditions such as [("name", "=", "value")]).',
                    name=name,
                    value=domain,
                )
            )
        model = self.env[model_name or self._name]
        for item in domain:
            if item in ("&", "|", "!"):
                continue
            if not (
                isinstance(item, list | tuple)
                and len(item) == 3
                and isinstance(item[1], str)
                and (
                    isinstance(item[0], str)
                    or tuple(item) in (expression.TRUE_LEAF, expression.FALSE_LEAF)
                )
            ):
                raise UserError(
                    self.env._(
                        "%(name)s: %(item)r is not a condition (expected "
                        '("field", "operator", value) or "&", "|", "!").',
                        name=name,
                        item=item,
                    )
                )
        try:
            # compiles the domain without running it: unknown fields and
            # operators and malformed conditions raise here, before any query
            model.with_context(active_test=False)._where_calc(list(domain))
        except (ValueError, TypeError, KeyError, IndexError, AssertionError) as error:
            raise UserError(
                self.env._(
                    "%(name)s: %(value)r is not a valid domain on %(model)s "
                    "(%(error)s).",
                    name=name,
                    value=domain,
                    model=model._description,
                    error=error,
                )
            ) from None
        return list(domain)

    @api.model
    def _check_pipeline_api_date(self, name, value, with_time=False, required=False):
        """``value`` as a date, or with ``with_time`` as a naive UTC datetime
        (a date is its midnight, an aware datetime is converted to UTC).
        Accepted: date and datetime objects, "YYYY-MM-DD" strings and, with
        ``with_time``, "YYYY-MM-DD HH:MM:SS" strings; within API_DATE_MIN and
        API_DATE_MAX. None (or False) is None, unless ``required``."""
        if (value is None or value is False) and not required:
            return None
        parsed = None
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, date):
            parsed = datetime.combine(value, datetime.min.time())
        elif isinstance(value, str):
            try:
                if len(value) == 10:
                    parsed = datetime.combine(
                        fields.Date.to_date(value), datetime.min.time()
                    )
                elif with_time and len(value) == 19:
                    parsed = fields.Datetime.to_datetime(value)
            except ValueError:
                parsed = None
        if parsed is None:
            if with_time:
                message = self.env._(
                    "%(name)s: %(value)r is not a date (expected a date as "
                    "YYYY-MM-DD or a UTC date and time as YYYY-MM-DD HH:MM:SS).",
                    name=name,
                    value=value,
                )
            else:
                message = self.env._(
                    "%(name)s: %(value)r is not a date (expected YYYY-MM-DD).",
                    name=name,
                    value=value,
                )
            raise UserError(message)
        if parsed.tzinfo:
            # the database's datetimes are naive UTC
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        if not API_DATE_MIN <= parsed.date() <= API_DATE_MAX:
            raise UserError(
                self.env._(
                    "%(name)s: %(value)s is outside the dates the pipeline "
                    "figures support (%(min)s to %(max)s).",
                    name=name,
                    value=parsed.date(),
                    min=API_DATE_MIN,
                    max=API_DATE_MAX,
                )
            )
        return parsed if with_time else parsed.date()

    @api.model
    def _check_pipeline_api_period(self, date_from, date_to, names=None):
        """(date_from, date_to) checked as a period [date_from, date_to), the
        end excluded: each end a date or UTC datetime (see
        _check_pipeline_api_date) or None for an open end; when both are
        given, the period ends after it starts (an empty or reversed period
        would silently give empty figures)."""
        name_from, name_to = names or ("date_from", "date_to")
        start = self._check_pipeline_api_date(name_from, date_from, with_time=True)
        end = self._check_pipeline_api_date(name_to, date_to, with_time=True)
        if start is not None and end is not None and end <= start:
            raise UserError(
                self.env._(
                    "%(name)s: the period must end after it starts (%(date_from)s "
                    "to %(date_to)s, the end excluded).",
                    name=name_to,
                    date_from=start,
                    date_to=end,
                )
            )
        return start, end

    @api.model
    def _check_pipeline_api_days(self, date_from, date_to, names=None):
        """(date_from, date_to) checked as a period of days, both included:
        each a date (see _check_pipeline_api_date, required), the last day not
        before the first."""
        name_from, name_to = names or ("date_from", "date_to")
        first = self._check_pipeline_api_date(name_from, date_from, required=True)
        last = self._check_pipeline_api_date(name_to, date_to, required=True)
        if last < first:
            raise UserError(
                self.env._(
                    "%(name)s: the period cannot end (%(date_to)s) before it "
                    "starts (%(date_from)s).",
                    name=name_to,
                    date_to=last,
                    date_from=first,
                )
            )
        return first, last

    @api.model
    def _check_pipeline_api_integer(self, name, value, minimum, maximum):
        """``value`` as a whole number from ``minimum`` to ``maximum`` (a
        bool, a float or a string is refused, as a count or a limit would be
        misread from them)."""
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not minimum <= value <= maximum
        ):
            raise UserError(
                self.env._(
                    "%(name)s: %(value)r is not a whole number from %(min)s to "
                    "%(max)s.",
                    name=name,
                    value=value,
                    min=minimum,
                    max=maximum,
                )
            )
        return value

    @api.model
    def _check_pipeline_api_choice(self, name, value, choices, default=None):
        """``value`` as one of the strings of ``choices``; an empty value
        (None, False or "") is ``default`` when one is given."""
        if default is not None and (value is None or value is False or value == ""):
            return default
        if not isinstance(value, str) or value not in choices:
            raise UserError(
                self.env._(
                    "%(name)s: %(value)r is not one of %(known)s.",
                    name=name,
                    value=value,
                    known=", ".join(choices),
                )
            )
        return value

    @api.model
    def _check_pipeline_api_filters(self, filters, known):
        """``filters`` as a dictionary whose keys are all in ``known``; None
        is {}."""
        if filters is None:
            return {}
        if not isinstance(filters, dict):
            raise UserError(self.env._("filters: expected a dictionary of filters."))
        unknown = sorted(set(filters) - set(known))
        if unknown:
            raise UserError(
                self.env._(
                    "%(name)s: unknown filter (known: %(known)s).",
                    name=unknown[0],
                    known=", ".join(known),
                )
            )
        return filters

    @api.model
    def _check_pipeline_api_ids(self, name, value, model_name):
        """``value`` as a list of ids of ``model_name`` records that exist and
        that the user may read (record rules apply: another company's records
        or other people's are refused). None or False is []."""
        if value is None or value is False:
            value = []
        if not isinstance(value, list | tuple) or any(
            isinstance(item, bool) or not isinstance(item, int) for item in value
        ):
            raise UserError(
                self.env._(
                    "%(name)s: %(value)r is not a list of record ids.",
                    name=name,
                    value=value,
                )
            )
        ids = list(value)
        self._check_pipeline_api_readable(name, ids, model_name)
        return ids

    @api.model
    def _check_pipeline_api_id(self, name, value, model_name):
        """``value`` as the id of a ``model_name`` record that exists and that
        the user may read, or False when empty (None, False or 0)."""
        if value is None or value is False or value == 0:
            return False
        if isinstance(value, bool) or not isinstance(value, int):
            raise UserError(
                self.env._(
                    "%(name)s: %(value)r is not a record id.", name=name, value=value
                )
            )
        self._check_pipeline_api_readable(name, [value], model_name)
        return value

    @api.model
    def _check_pipeline_api_readable(self, name, ids, model_name):
        """Refuse the ids of ``model_name`` that do not exist or that the user
        may not read, in one query (archived records are allowed)."""
        if not ids:
            return
        model = self.env[model_name].with_context(active_test=False)
        try:
            readable = set(model._search([("id", "in", ids)]))
        except AccessError:
            readable = set()
        missing = [record_id for record_id in ids if record_id not in readable]
        if missing:
            raise UserError(
                self.env._(
                    "%(name)s: no %(model)s with id %(ids)s that you may read (it "
                    "does not exist, belongs to another company or is not yours "
                    "to read).",
                    name=name,
                    model=model._description,
                    ids=", ".join(map(str, missing)),
                )
            )
