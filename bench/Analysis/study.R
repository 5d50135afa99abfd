# The same study analysis in base R, timed after the CSV is read (the reference for bench/Analysis).
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
t0 <- proc.time()[["elapsed"]]
cuzick <- function(y, g) {
  ok <- !is.na(y); y <- y[ok]; g <- g[ok]; N <- length(y); r <- rank(y)
  L <- sum(g); T <- sum(g * r); ET <- (N + 1) * L / 2
  ties <- table(y); V <- (N + 1) / 12 * (N * sum(g^2) - L^2) * (1 - sum(ties^3 - ties) / (N^3 - N))
  z <- (T - ET) / sqrt(V); 2 * pnorm(-abs(z))
}
cuts <- quantile(d$homa_ir, c(.25, .5, .75), type = 2)
d$q <- 1 + (d$homa_ir > cuts[1]) + (d$homa_ir > cuts[2]) + (d$homa_ir > cuts[3])
table1 <- c("age", "weight", "bmi", "waist", "thigh", "glucose", "insulin", "triglycerides", "hdl_cholesterol", "vitamin_d", "egfr",
            "femoral_neck_total_vbmd", "trochanter_total_vbmd", "intertrochanter_total_vbmd", "total_hip_total_vbmd",
            "neck_cortical_depth", "neck_width", "hip_axis_length", "neck_shaft_angle")
for (v in table1) { x <- d[[v]]; tapply(x, d$q, mean, na.rm = TRUE); tapply(x, d$q, sd, na.rm = TRUE); cuzick(x, d$q) }
tapply(d$hs_crp, d$q, quantile, probs = c(.25, .5, .75), type = 2, na.rm = TRUE); cuzick(d$hs_crp, d$q)
for (v in c("alcohol_1_unit_per_day", "current_smoking")) { ok <- !is.na(d[[v]]); prop.trend.test(tapply(d[[v]][ok], d$q[ok], sum), tapply(d[[v]][ok], d$q[ok], length)) }
cuzick(d$physical_activity_category, d$q)
outcomes <- c(as.vector(outer(c("femoral_neck", "trochanter", "intertrochanter", "total_hip"),
                              c("total_volume", "cortical_volume", "trabecular_volume", "total_vbmd", "cortical_vbmd", "trabecular_vbmd"), paste, sep = "_")),
              "neck_cortical_depth", "compressive_strength_index", "section_modulus", "buckling_ratio")
d$high <- as.numeric(d$q > 2); d$pa2 <- as.numeric(d$physical_activity_category == 2); d$pa3 <- as.numeric(d$physical_activity_category == 3)
d$lcrp <- ifelse(d$hs_crp > 0, log(d$hs_crp), NA)
for (y in outcomes) {
  f <- function(formula) { m <- lm(formula, data = d); s <- summary(m); mf <- model.frame(m); sapply(mf[sapply(mf, is.numeric)], sd); s$coefficients }
  f(as.formula(paste(y, "~ high + age + weight + height")))
  f(as.formula(paste(y, "~ factor(q) + age + weight + height")))
  f(as.formula(paste(y, "~ log_homa_ir + age + height + weight")))
  f(as.formula(paste(y, "~ log_homa_ir + age + height + waist + thigh")))
  f(as.formula(paste(y, "~ log_homa_ir + age + height + waist + thigh + current_smoking + alcohol_1_unit_per_day + pa2 + pa3 + vitamin_d + lcrp")))
}
cat(sprintf("analysis_seconds=%.4f\n", proc.time()[["elapsed"]] - t0))
