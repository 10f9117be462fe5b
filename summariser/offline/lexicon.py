"""The offline backend's vocabulary: finance metric words, change verbs, sentiment terms.

Stage: pure data (no I/O, no logic). Written for this project: these are our own short lists,
not a licensed dictionary. Every entry is lower case; multi-word entries are matched as whole
token sequences.
"""

from __future__ import annotations


def _terms(text: str) -> frozenset[str]:
    """A comma-separated list (kept as text so that the lists stay compact) as a set."""
    return frozenset(term.strip() for term in text.split(",") if term.strip())


# --- metrics ----------------------------------------------------------------------------------

# What a figure can measure, longest first where one contains another. The look-back for a
# metric name stops at the last of these before the figure and grows the noun phrase around it.
METRIC_TERMS: frozenset[str] = _terms(
    """
revenue, revenues, sales, turnover, income, profit, profits, earnings, eps, ebitda,
ebit, margin, margins, arr, recurring revenue, run rate, cash flow, free cash flow,
dividend, dividends, buyback, buybacks, repurchase, repurchases, guidance, outlook,
forecast, backlog, bookings, orders, order intake, deliveries, shipments, volume,
volumes, share, market share, stake, price, prices, valuation, market value,
market cap, capitalisation, capitalization, debt, borrowing, borrowings, loan, loans,
deposits, assets, liabilities, capex, capital expenditure, spending, investment,
investments, costs, cost, expenses, charge, charges, write-down, impairment, loss,
losses, deficit, surplus, gdp, inflation, unemployment, jobs, rate, rates, yield,
yields, users, subscribers, customers, members, accounts, stores, employees, staff,
workers, headcount, fine, settlement, payout, bonus, salary, fee, fees, tax, taxes,
premium, premiums, gmv, aum, nim, roe, ebitda margin, bonds, shares, stock, index,
exports, imports, output, production, demand, consumption, traffic, passengers, growth,
increase, decline, gain, proportion, stake, deal, offer, bid, acquisition, contract,
funding, financing, proceeds, cash, reserves, savings, pension, wages, rent, tokens,
net interest income, operating income, net income, net profit, gross margin,
operating margin, earnings per share, per share
"""
)
# Generic change nouns: "revenue growth" is named by the noun before them, so the look-back
# keeps going past them to find what grew.
CHANGE_NOUNS: frozenset[str] = frozenset(
    {"growth", "increase", "decline", "gain", "rise", "drop", "fall", "decrease", "change"}
)
# Words that may stand inside a metric's noun phrase: modifiers such as "adjusted", "net",
# "AI-related", "external commercial". The phrase stops at any other word (verbs, articles).
METRIC_MODIFIERS: frozenset[str] = _terms(
    """
adjusted, net, gross, operating, organic, comparable, core, total, annual, annualized,
annualised, quarterly, recurring, diluted, basic, gaap, non-gaap, underlying, pre-tax,
pretax, after-tax, external, commercial, internal, international, domestic, online,
retail, cloud, product, products, service, services, segment, group, consolidated,
same-store, like-for-like, digital, advertising, subscription, software, hardware, data,
center, centre, ai, ai-related, model, platform, business, consumer, enterprise, free,
cash, capital, market, interest, per, average, weighted, dividend, profit, operating,
backlog, order, income, sales, revenue, share, stock, bond, mortgage, loan, credit, card,
payment, payments, trade, current, account, budget, overseas, global, china, us, u.s.,
europe, asia, wholesale, license, licensing, aws, azure, api, token, run, ebitda, arr,
eps, home, auto, energy, oil, gas, power, mobile, wireless, broadband, pharma, drug,
device, devices, hotel, travel, airline, freight, shipping, insurance, banking,
investment, wealth, asset, management, reported
"""
)
ACRONYM_METRICS: frozenset[str] = frozenset(
    {"eps", "ebitda", "ebit", "arr", "gdp", "gmv", "aum", "nim", "roe", "capex"}
)

# --- changes ------------------------------------------------------------------------------

UP_WORDS: frozenset[str] = _terms(
    """
rose, rise, rises, rising, risen, grew, grow, grows, growing, grown, growth, increased,
increase, increases, increasing, up, higher, gained, gain, gains, jumped, jump, jumps,
climbed, climb, climbs, surged, surge, surges, soared, soar, accelerated, accelerating,
expanded, expanding, improved, improving, advanced, boosted, added, rebounded, doubled,
tripled, raised, lifted, widened
"""
)
DOWN_WORDS: frozenset[str] = _terms(
    """
fell, fall, falls, falling, fallen, declined, decline, declines, declining, dropped,
drop, drops, dropping, decreased, decrease, decreases, down, lower, slid, slide,
slipped, slumped, slump, plunged, plunge, tumbled, sank, shrank, shrinking, contracted,
contraction, eased, cut, cuts, reduced, lost, narrowed, retreated, dipped, dip, dips,
weakened
"""
)

# --- sentiment ----------------------------------------------------------------------------

# Weights: 1 for an ordinary term, 2 for a strong one. Phrases are matched before words.
POSITIVE: dict[str, float] = {
    **dict.fromkeys(
        _terms(
            """
    growth, grew, grow, growing, rose, rise, rising, increase, increased, gain, gains,
    gained, improve, improved, improvement, improving, strong, stronger, strength, robust,
    solid, healthy, profit, profitable, profitability, beat, beats, exceeded, exceed,
    outperform, outperformed, upgrade, upgraded, expand, expanded, expansion, accelerate,
    accelerated, accelerating, acceleration, momentum, demand, opportunity, opportunities,
    success, successful, win, won, wins, benefit, benefits, benefited, confident,
    confidence, optimistic, optimism, rebound, rebounded, recovery, recovered, recover,
    upside, dividend, buyback, innovation, leading, leader, leadership, efficient,
    efficiency, resilient, favourable, favorable, positive, progress, milestone, advance,
    advanced, boost, boosted, higher, up, climbed, jumped, attractive, stabilise,
    stabilize, stabilised, stabilized, sustained, sustainable, tailwind, tailwinds,
    exceeding, ahead, raised, raise, upbeat, gaining, expanding, engine, inflection,
    pay off, delivered, deliver
    """
        ),
        1.0,
    ),
    **dict.fromkeys(
        _terms(
            """
    record, surge, surged, soared, soar, soaring, skyrocketed, boom, booming, blowout,
    exponential, triple-digit, double-digit growth, all-time high, record high,
    beat expectations, better than expected, better-than-expected, raised guidance,
    raised its guidance, strong demand, accelerated growth, margin expansion, doubled,
    tripled, tenfold
    """
        ),
        2.0,
    ),
}
NEGATIVE: dict[str, float] = {
    **dict.fromkeys(
        _terms(
            """
    decline, declined, declines, declining, fell, fall, falls, falling, drop, dropped,
    drops, decrease, decreased, down, lower, weak, weaker, weakness, weakened, loss,
    losses, miss, missed, misses, cut, cuts, cutting, downgrade, downgraded, slow, slowed,
    slowing, slowdown, slump, slumped, pressure, pressures, pressured, headwind, headwinds,
    risk, risks, risky, uncertain, uncertainty, concern, concerns, worry, worries, worried,
    fear, fears, debt, deficit, lawsuit, litigation, probe, investigation, fine, fined,
    penalty, recall, default, bankruptcy, bankrupt, layoff, layoffs, redundancies,
    job cuts, closure, closures, shut, delay, delayed, disappointing, disappointed,
    disappointment, challenging, challenged, challenge, difficult, difficulty, volatile,
    volatility, skepticism, scepticism, competition, competitive pressure, shortfall,
    impairment, write-down, writedown, charge, warning, warned, warns, dip, negative,
    underperform, underperformed, deteriorate, deteriorated, deterioration, contraction,
    contracted, shrank, shrink, inflation, strike, dispute, sanctions, tariff, tariffs,
    scandal, fraud, collapse, crisis, recession, unemployment, slid, slipped, struggle,
    struggled, struggling, adverse, constrained, susceptible, skeptical
    """
        ),
        1.0,
    ),
    **dict.fromkeys(
        _terms(
            """
    plunge, plunged, plunging, plummeted, tumbled, crash, crashed, collapsed,
    profit warning, worse than expected, worse-than-expected, missed expectations,
    cut guidance, lowered guidance, cut its forecast, net loss, record low, going concern,
    insolvency, slashed, slash
    """
        ),
        2.0,
    ),
}
# Words after which a term flips sign, looked for in the three tokens before it.
NEGATORS: frozenset[str] = _terms(
    """
not, no, never, without, nor, neither, hardly, didn't, doesn't, don't, isn't, wasn't,
weren't, aren't, won't, cannot, can't, fewer, less, lack, lacked, failed, fails, avoid,
avoided, n't
"""
)
INTENSIFIERS: dict[str, float] = {
    "very": 1.5,
    "sharply": 1.6,
    "significantly": 1.5,
    "strongly": 1.5,
    "substantially": 1.5,
    "dramatically": 1.7,
    "markedly": 1.4,
    "considerably": 1.4,
    "highly": 1.3,
    "rapidly": 1.4,
    "steeply": 1.6,
    "massively": 1.7,
    "extremely": 1.7,
    "slightly": 0.5,
    "modestly": 0.6,
    "marginally": 0.5,
    "somewhat": 0.6,
    "mildly": 0.6,
}
# Things that are good when they go down: "costs fell", "losses narrowed" read as positive.
BAD_THINGS: frozenset[str] = _terms(
    """
cost, costs, expense, expenses, loss, losses, debt, deficit, unemployment, inflation,
layoffs, churn, delinquencies, defaults, write-offs, charges, prices, price, risk,
risks, pressure, headwinds, costs, spending
"""
)

# --- entities -----------------------------------------------------------------------------

# Capitalised words that begin sentences or name no company: never an entity on their own.
NOT_ENTITIES: frozenset[str] = _terms(
    """
the, a, an, this, that, these, those, it, its, in, on, at, for, from, by, with, as, of,
to, and, but, or, so, if, when, while, after, before, during, over, under, since,
until, although, however, meanwhile, therefore, consequently, according, more, most,
first, second, third, fourth, finally, also, we, our, us, i, you, he, she, they, their,
his, her, there, here, what, which, who, why, how, yes, no, thank, thanks, good, now,
then, let, all, some, many, each, every, both, once, overall, today, yesterday, last,
next, q, mr, mrs, ms, dr, ceo, cfo, coo, cto, chairman, president, ai, arr, eps, gaap,
ebitda, api, iaas, maas, paas, saas, q&a, operator, disclaimer, report, comment, like,
favorite, january, february, march, april, may, june, july, august, september, october,
november, december, monday, tuesday, wednesday, thursday, friday, saturday, sunday,
us, fy, year, quarter, fiscal, total, net, revenue, sales, adjusted,
reuters, bbc, said, says, even, just, still, again, compared, including, excluding,
based, looking, turning, moving, despite, given, through, within, against, about,
around, because, neither, either, such, other, another, further, not, only, yet, one, two, three,
well, okay, ok, sure, great, right, again, hi, hello, additionally, nevertheless,
furthermore, moreover, importantly, similarly, specifically, instead, indeed, lastly,
secondly, thirdly, notably, clearly, obviously, ultimately, currently, recently
"""
)
# Words that are no entity when they stand alone, though they may open one ("British
# Airways", "Global Payments"): demonyms and such.
NOT_ALONE: frozenset[str] = _terms(
    """
chinese, american, european, british, japanese, german, french, global, asian, indian,
u.s., uk, eu, new, international, national, federal, central, north, south, east, west,
western, eastern, northern, southern, group, company, corporation, inc, bank, cloud,
covid, covid-19, u.s
"""
)
