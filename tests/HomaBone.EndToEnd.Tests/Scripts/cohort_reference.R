# Independent reference computation of issue 5's cohort analysis (study.md; methods.md §2-5).
#
# Usage: Rscript cohort_reference.R <records.csv> <out.csv>
#
# Input: one row per stored participant (exported by CohortAnalysisReferenceTests from ListParticipants):
#   id, active (0/1), eligible (0/1), first_reason (homabone.v1.ExclusionReason number, 0 = none),
#   reasons ("1;3", every failing criterion), then one column per catalogue variable in canonical units
#   (NA = missing).
# Output: key,value,kind,scale — kind "exact" (counts, cut points), "est" (estimates) or "p" (P-values);
#   scale is the natural magnitude of the quantity (for an absolute tolerance where the value is ~0).
#
# Nothing here uses the service's outputs: groups, tests and models are recomputed from the formulas with
# base R (quantile type 2, rank, rle, prop.trend.test, lm).

args <- commandArgs(trailingOnly = TRUE)
stopifnot(length(args) == 2)
d <- read.csv(args[1], check.names = FALSE, na.strings = "NA",
              colClasses = c(id = "character", reasons = "character"))

keys <- character(0)
vals <- numeric(0)
kinds <- character(0)
scales <- numeric(0)
emit <- function(key, value, kind, scale = 1) {
  stopifnot(length(value) == 1, is.finite(value))
  keys[length(keys) + 1] <<- key
  vals[length(vals) + 1] <<- as.numeric(value)
  kinds[length(kinds) + 1] <<- kind
  scales[length(scales) + 1] <<- as.numeric(scale)
}

# ---- Fig. 1 flow ---------------------------------------------------------------------------------------
act <- d[d$active == 1, ]
emit("flow.enrolled", nrow(act), "exact")
emit("flow.analysed", sum(act$eligible == 1), "exact")
emit("flow.withdrawn", sum(d$active == 0), "exact")
reason_sets <- lapply(strsplit(ifelse(is.na(act$reasons), "", act$reasons), ";", fixed = TRUE), as.integer)
for (r in 1:9) {
  emit(sprintf("flow.first.%d", r), sum(act$first_reason == r), "exact")
  emit(sprintf("flow.any.%d", r), sum(vapply(reason_sets, function(s) r %in% s, logical(1))), "exact")
}

# ---- Quartiles of HOMA-IR (Stata xtile = Hyndman-Fan type 2, ties to the lower group) -------------------
e <- act[act$eligible == 1 & !is.na(act$homa_ir), ]
e <- e[order(e$id, method = "radix"), ]
h <- e$homa_ir
n <- length(h)
cuts <- quantile(h, probs = (1:3) / 4, type = 2, names = FALSE)
# The Stata rule written out (methods.md §2): P = n j / 4; integer -> mean of x(P), x(P+1); else x(ceil P).
hs <- sort(h)
for (j in 1:3) {
  if ((n * j) %% 4 == 0) {
    i <- n * j / 4
    manual <- (hs[i] + hs[i + 1]) / 2
  } else {
    manual <- hs[ceiling(n * j / 4)]
  }
  stopifnot(identical(manual, cuts[j]))
}
q <- 1L + (h > cuts[1]) + (h > cuts[2]) + (h > cuts[3])
emit("quartiles.n_used", n, "exact")
for (j in 1:3) emit(sprintf("quartiles.cut.%d", j), cuts[j], "exact")
for (j in 1:4) emit(sprintf("quartiles.n.%d", j), sum(q == j), "exact")
# HOMA-IR as stored equals glucose x insulin / 405 from the canonical lab values (methods.md §1.1).
homa_check <- max(abs(e$glucose * e$insulin / 405 - h) / h)
emit("check.homa_formula_max_rel", homa_check, "check")
emit("check.log_homa_max_abs", max(abs(log(h) - e$log_homa_ir)), "check")
# BMI and eGFR (CKD-EPI 2009, women, methods.md §1.3) as stored equal the formulas on the stored inputs.
bmi <- e$weight / (e$height / 100)^2
emit("check.bmi_max_rel", max(abs(bmi - e$bmi) / e$bmi, na.rm = TRUE), "check")
scr <- e$creatinine / 0.7
egfr <- 141 * pmin(scr, 1)^-0.329 * pmax(scr, 1)^-1.209 * 0.993^e$age * 1.018 * ifelse(e$black_race %in% 1, 1.159, 1)
emit("check.egfr_max_rel", max(abs(egfr - e$egfr) / e$egfr, na.rm = TRUE), "check")

# ---- Table 1 --------------------------------------------------------------------------------------------
cuzick <- function(y, g) {
  ok <- !is.na(y)
  y <- y[ok]
  g <- g[ok]
  N <- length(y)
  r <- rank(y, ties.method = "average")
  L <- sum(g)
  T <- sum(g * r)
  ET <- (N + 1) * L / 2
  V0 <- (N + 1) / 12 * (N * sum(g^2) - L^2)
  t <- rle(sort(y))$lengths
  V <- V0 * (1 - sum(t^3 - t) / (N^3 - N))
  z <- (T - ET) / sqrt(V)
  c(z = z, p = 2 * pnorm(-abs(z)))
}

cochran_armitage <- function(y, g) {
  ok <- !is.na(y)
  y <- y[ok]
  g <- g[ok]
  s <- 1:4
  events <- vapply(s, function(j) sum(y[g == j] == 1), numeric(1))
  totals <- vapply(s, function(j) sum(g == j), numeric(1))
  keep <- totals > 0
  events <- events[keep]
  totals <- totals[keep]
  s <- s[keep]
  N <- sum(totals)
  pbar <- sum(events) / N
  sbar <- sum(totals * s) / N
  T <- sum(events * (s - sbar))
  V <- pbar * (1 - pbar) * sum(totals * (s - sbar)^2)
  z <- T / sqrt(V)
  pt <- suppressWarnings(prop.trend.test(events, totals, s))
  stopifnot(abs(unname(pt$statistic) - z^2) <= 1e-9 * z^2)
  c(z = z, p = unname(pt$p.value))
}

continuous <- c("age", "weight", "bmi", "waist", "thigh", "glucose", "insulin", "triglycerides", "hdl_cholesterol",
                "vitamin_d", "egfr", "femoral_neck.total_vbmd", "trochanter.total_vbmd", "intertrochanter.total_vbmd",
                "total_hip.total_vbmd", "neck_cortical_depth", "neck_width", "hip_axis_length", "neck_shaft_angle")
skewed <- c("hs_crp")
binary <- c("alcohol_1_unit_per_day", "current_smoking")
cells <- c(as.character(1:4), "all")
in_cell <- function(c) if (c == "all") rep(TRUE, n) else q == as.integer(c)

for (v in c(continuous, skewed)) {
  x <- e[[v]]
  for (c in cells) {
    xc <- x[in_cell(c)]
    ok <- xc[!is.na(xc)]
    emit(sprintf("t1.%s.%s.n", v, c), length(ok), "exact")
    emit(sprintf("t1.%s.%s.missing", v, c), sum(is.na(xc)), "exact")
    if (v %in% skewed) {
      qs <- quantile(ok, c(0.25, 0.5, 0.75), type = 2, names = FALSE)
      emit(sprintf("t1.%s.%s.p25", v, c), qs[1], "exact")
      emit(sprintf("t1.%s.%s.median", v, c), qs[2], "exact")
      emit(sprintf("t1.%s.%s.p75", v, c), qs[3], "exact")
    } else {
      emit(sprintf("t1.%s.%s.mean", v, c), mean(ok), "est", sd(ok))
      emit(sprintf("t1.%s.%s.sd", v, c), sd(ok), "est")
    }
  }
  tr <- cuzick(x, q)
  emit(sprintf("t1.%s.trend.z", v), tr[["z"]], "est")
  emit(sprintf("t1.%s.trend.p", v), tr[["p"]], "p")
}

count_rows <- function(name, x, level) {
  for (c in cells) {
    xc <- x[in_cell(c)]
    ok <- xc[!is.na(xc)]
    emit(sprintf("t1.%s.%s.n", name, c), length(ok), "exact")
    emit(sprintf("t1.%s.%s.missing", name, c), sum(is.na(xc)), "exact")
    emit(sprintf("t1.%s.%s.count", name, c), sum(ok == level), "exact")
    emit(sprintf("t1.%s.%s.percent", name, c), 100 * sum(ok == level) / length(ok), "est", 100)
  }
}
for (v in binary) {
  count_rows(v, e[[v]], 1)
  tr <- cochran_armitage(e[[v]], q)
  emit(sprintf("t1.%s.trend.z", v), tr[["z"]], "est")
  emit(sprintf("t1.%s.trend.p", v), tr[["p"]], "p")
}
pa <- e$physical_activity_category
tr <- cuzick(pa, q)  # the ordinal category as the response, quartile scores 1..4 (methods.md §3.3 (a))
for (level in 1:3) {
  name <- sprintf("physical_activity_category=%d", level)
  count_rows(name, pa, level)
  emit(sprintf("t1.%s.trend.z", name), tr[["z"]], "est")
  emit(sprintf("t1.%s.trend.p", name), tr[["p"]], "p")
}

# ---- Fig. 2 / Fig. 3: ANCOVA in SD units of the reference group --------------------------------------------
outcomes <- c(as.vector(t(outer(c("femoral_neck", "trochanter", "intertrochanter", "total_hip"),
                                c("total_volume", "cortical_volume", "trabecular_volume",
                                  "total_vbmd", "cortical_vbmd", "trabecular_vbmd"), paste, sep = "."))),
              "neck_cortical_depth", "compressive_strength_index", "section_modulus", "buckling_ratio")
stopifnot(length(outcomes) == 28)

emit_difference <- function(prefix, fit, term, sdref) {
  s <- summary(fit)$coefficients
  df <- fit$df.residual
  est <- s[term, 1]
  se <- s[term, 2]
  tq <- qt(0.975, df)
  emit(paste0(prefix, ".difference"), est, "est", se)
  emit(paste0(prefix, ".standard_error"), se, "est")
  emit(paste0(prefix, ".reference_sd"), sdref, "est")
  emit(paste0(prefix, ".difference_sd"), est / sdref, "est", se / sdref)
  emit(paste0(prefix, ".lower_ci_sd"), (est - tq * se) / sdref, "est", se / sdref)
  emit(paste0(prefix, ".upper_ci_sd"), (est + tq * se) / sdref, "est", se / sdref)
  emit(paste0(prefix, ".p_value"), s[term, 4], "p")
  emit(paste0(prefix, ".df"), df, "exact")
  emit(paste0(prefix, ".n"), length(fit$residuals), "exact")
}

for (v in outcomes) {
  dd <- data.frame(y = e[[v]], q = q, age = e$age, weight = e$weight, height = e$height)
  dd <- dd[complete.cases(dd), ]
  dd$high <- as.numeric(dd$q > 2)
  fit <- lm(y ~ high + age + weight + height, data = dd)
  emit_difference(sprintf("gd.half.%s", v), fit, "high", sd(dd$y[dd$high == 0]))
  dd$fq <- factor(dd$q, levels = 1:4)
  fit <- lm(y ~ fq + age + weight + height, data = dd)
  for (k in 2:4) emit_difference(sprintf("gd.each.%d.%s", k, v), fit, sprintf("fq%d", k), sd(dd$y[dd$q == 1]))
}

# ---- Table 2 and a user model: OLS, standardized beta on the estimation sample -------------------------------
term_value <- function(spec) {
  x <- e[[spec$var]]
  if (!is.null(spec$log) && spec$log) x <- ifelse(!is.na(x) & x > 0, log(x), NA)
  if (!is.null(spec$level)) x <- ifelse(is.na(x), NA, as.numeric(x == spec$level))
  x
}
term_name <- function(spec) {
  if (!is.null(spec$level)) return(sprintf("%s=%d", spec$var, spec$level))
  if (!is.null(spec$log) && spec$log) return(sprintf("log(%s)", spec$var))
  spec$var
}
plain <- function(...) lapply(c(...), function(v) list(var = v))
pa_dummies <- list(list(var = "physical_activity_category", level = 2), list(var = "physical_activity_category", level = 3))

fit_model <- function(label, outcome, terms) {
  y <- term_value(outcome)
  X <- sapply(terms, term_value)
  colnames(X) <- sprintf("x%d", seq_along(terms))
  # A missing categorical value drops the row (every dummy is NA).
  ok <- !is.na(y) & stats::complete.cases(X)
  dd <- data.frame(y = y[ok], X[ok, , drop = FALSE])
  fit <- lm(as.formula(paste("y ~", paste(colnames(X), collapse = " + "))), data = dd)
  s <- summary(fit)
  cf <- s$coefficients
  stopifnot(nrow(cf) == length(terms) + 1)
  ci <- confint(fit)
  prefix <- sprintf("assoc.%s.%s", label, term_name(outcome))
  emit(paste0(prefix, ".n"), nrow(dd), "exact")
  emit(paste0(prefix, ".df"), fit$df.residual, "exact")
  emit(paste0(prefix, ".r_squared"), s$r.squared, "est")
  emit(paste0(prefix, ".adjusted_r_squared"), s$adj.r.squared, "est")
  emit(paste0(prefix, ".residual_sd"), s$sigma, "est")
  names <- c("(Intercept)", vapply(terms, term_name, character(1)))
  for (i in seq_along(names)) {
    tp <- sprintf("%s.coef.%s", prefix, names[i])
    se <- cf[i, 2]
    emit(paste0(tp, ".estimate"), cf[i, 1], "est", se)
    emit(paste0(tp, ".standard_error"), se, "est")
    emit(paste0(tp, ".t_value"), cf[i, 3], "est", 1)
    emit(paste0(tp, ".p_value"), cf[i, 4], "p")
    emit(paste0(tp, ".lower_ci"), ci[i, 1], "est", se)
    emit(paste0(tp, ".upper_ci"), ci[i, 2], "est", se)
    if (i > 1) {
      emit(paste0(tp, ".standardized_estimate"), cf[i, 1] * sd(dd[[i]]) / sd(dd$y), "est", se * sd(dd[[i]]) / sd(dd$y))
    }
  }
}

exposure <- list(var = "log_homa_ir")
models <- list(
  "model 1" = plain("age", "height", "weight"),
  "model 2" = plain("age", "height", "waist", "thigh"),
  "model 3" = c(plain("age", "height", "waist", "thigh", "current_smoking", "alcohol_1_unit_per_day"), pa_dummies,
                plain("vitamin_d"), list(list(var = "hs_crp", log = TRUE))))
for (label in names(models)) {
  for (v in outcomes) fit_model(label, list(var = v), c(list(exposure), models[[label]]))
}
# The user model of CohortAnalysisReferenceTests: log CSI on log HOMA-IR (computed from homa_ir), age, BMI,
# physical activity as categorical dummies and log hs-CRP.
fit_model("custom", list(var = "compressive_strength_index", log = TRUE),
          c(list(list(var = "homa_ir", log = TRUE)), plain("age", "bmi"), pa_dummies, list(list(var = "hs_crp", log = TRUE))))

out <- data.frame(key = keys, value = sprintf("%.17g", vals), kind = kinds, scale = sprintf("%.17g", scales))
stopifnot(!anyDuplicated(out$key))
write.csv(out, args[2], row.names = FALSE, quote = TRUE)
