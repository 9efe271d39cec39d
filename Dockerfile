# A small non-root image: a static binary on distroless, uid 65532 by the
# base image but the chart runs it as 1000 with a read-only root filesystem.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -tags nodemo -trimpath -ldflags "-s -w" -o /out/ai-agent ./cmd/ai-agent

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ai-agent /usr/local/bin/ai-agent
USER 1000:1000
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/ai-agent"]
CMD ["serve"]
